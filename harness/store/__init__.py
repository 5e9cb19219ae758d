"""Result files: results.jsonl and compat.json, and joining shards."""
