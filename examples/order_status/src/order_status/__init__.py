"""order-status: answer "where is my order 12345?" from the shop's order API."""
