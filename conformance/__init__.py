"""zai-conformance: a conformance and integration test harness for Z.AI's GLM API.

Set before anything can import LiteLLM: without it, `import litellm` fetches a remote cost map
(network in replay, and a map that changes request bodies between runs).
"""

import os

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

__version__ = "0.1.0"
