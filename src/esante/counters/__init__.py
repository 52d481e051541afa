"""The rate limits' counters (esante.ratelimit), kept so that each lasts exactly its time
window and counts atomically: in Redis when the default cache is Redis, else in a table of
the database (`RateCounter`). See `store`."""
