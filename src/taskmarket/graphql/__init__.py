"""The public GraphQL API: thin translation between the contract and the application."""
