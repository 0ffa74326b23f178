"""What every room's pages share: templating, units of work per request, error pages."""
