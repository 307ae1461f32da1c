"""What every edgemesh service shares over HTTP: errors, auth, health."""
