"""What graphtape writes for people and CI: finding reports and the servers' stop summary."""
