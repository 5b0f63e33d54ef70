"""The stored network: regions, cities, centers, pools, links; the topology document in and out of the database."""
