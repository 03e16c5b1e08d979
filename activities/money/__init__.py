"""Money: the escrow ledger, campaign funding, refunds and creator payouts."""
