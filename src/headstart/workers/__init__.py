"""Long-running workers: the tracking-event consumer, the scheduler and the outbox sender."""
