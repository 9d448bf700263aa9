"""Microsoft Graph knowledge: schema, routes and the rules the validator applies (no mitmproxy)."""
