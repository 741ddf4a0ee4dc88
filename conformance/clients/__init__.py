"""The version axis: client sets (which releases of the client libraries a cell is judged under), their
environments built with uv, and the registry's releases for bisecting."""
