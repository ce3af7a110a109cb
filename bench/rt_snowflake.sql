SELECT snowflake_id();
