"""Checking: the contract's rules as check frames and Great Expectations suites run per batch, the
checks across years over the warehouse, and the indicators, peers and data quality computed after
publishing."""
