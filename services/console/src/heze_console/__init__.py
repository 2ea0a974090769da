"""The Heze programme web console: pages in Simplified Chinese over the four services' HTTP APIs."""
