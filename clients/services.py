"""Writes about clients: every change of a client happens here, in one
transaction, with its event-log entry and its notification."""
