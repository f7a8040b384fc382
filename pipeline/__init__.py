"""news-pipeline: clean, deduplicate and enrich news articles from Kafka into canonical stories."""
