"""Registration: places, the waiting list, and self-service management by secret link."""
