"""The regulator's view: indicators, the comprehensive compute index, maturity, targets, lists, reports."""
