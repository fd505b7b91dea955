"""Which deployment answers a request, and why: the decision pipeline and what it draws on."""
