"""The domain of the hotline: tickets, units, lifecycle, deadlines, intake, reports, storage."""
