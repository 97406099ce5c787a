"""Read models derived from the event store, one module per model (handlers and queries).

`reads.ReadModels` is the query API; `runner.ProjectionRunner` keeps the tables up to date;
`registry.PROJECTIONS` names every projection.
"""
