"""Movement between regions and retention of programme holders (DESIGN §4.9)."""
