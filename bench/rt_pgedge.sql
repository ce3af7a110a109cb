SELECT snowflake.nextval();
