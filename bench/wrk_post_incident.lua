-- wrk script for bench/incidents_create.py: POST one incident per request with the token from $TOKEN.
wrk.method = "POST"
wrk.body = '{"short_description": "Bench incident", "impact": 2, "urgency": 2, "assignment_group": "bench-desk"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Token " .. os.getenv("TOKEN")
