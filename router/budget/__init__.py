"""Spend tracking and the budget-aware choice of a model."""
