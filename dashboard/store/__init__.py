"""The record: SQLAlchemy models, opening and migrating a database, bulk writes, the organisation tree and member lookups as read from the store. May import dashboard.domain only."""
