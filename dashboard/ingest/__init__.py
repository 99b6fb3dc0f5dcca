"""Events in: checking each event and writing batches durably and idempotently, then publishing them on the bus. May import domain, store, settings, access and live."""
