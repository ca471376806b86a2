"""XOOBAY's multilingual customer-support bot."""
