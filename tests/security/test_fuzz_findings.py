"""What the fuzz run with every check found (issue 26), each kept as a plain regression test: an empty query
parameter means "not filtered" everywhere, the bounds the schema states are the ones enforced, and the JSON
the schema documents as an object or a list is refused when it is not one."""

import re

import pytest

from cmdb.models import CIClass
from cmdb.services import create_ci


@pytest.fixture
def server(agent):
    return create_ci(
        actor=agent, fields={"name": "fuzz-server", "ci_class": CIClass.objects.order_by("name").first()}
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/incidents/?page_size=",  # the default page size
        "/api/v1/cmdb/cis/?status=",  # a multiple choice left empty
        "/api/v1/cmdb/relationships/?type=",
    ],
)
def test_an_empty_query_parameter_means_not_filtered(api_client, agent, url):
    response = api_client(agent).get(url)
    assert response.status_code == 200, response.json()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "status"),
    [("hops=2", 200), ("hops=", 200), ("hops=null", 400), ("hops=0", 400), ("hops=4", 400), ("hops=²", 400)],
)
def test_graph_hops_are_the_documented_whole_number_from_1_to_3(api_client, agent, server, query, status):
    response = api_client(agent).get(f"/api/v1/cmdb/cis/{server.pk}/graph/?{query}")
    assert response.status_code == status
    if status == 400:
        assert response.json() == {"hops": ["Must be a whole number from 1 to 3."]}


@pytest.mark.django_db
def test_impact_depth_refusals_are_documented(api_client, agent, server):
    schema = api_client(agent).get("/api/v1/schema/?format=json").json()
    impact = schema["paths"]["/api/v1/cmdb/cis/{id}/impact/"]["get"]
    assert "400" in impact["responses"]
    depth = next(p for p in impact["parameters"] if p["name"] == "max_depth")
    assert depth["schema"] == {"type": "integer", "minimum": 1, "maximum": 20}
    assert api_client(agent).get(f"/api/v1/cmdb/cis/{server.pk}/impact/?max_depth=null").status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("group", [{}, None, ""])
def test_rule_conditions_groups_must_be_lists(api_client, admin_user, group):
    body = {"applies_to": "incident", "trigger": "created", "conditions": {"all": [], "any": group}}
    response = api_client(admin_user).post("/api/v1/automation/rules/preview/", body, format="json")
    assert response.status_code == 400
    assert "conditions.any" in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["generatorURL", "fingerprint"])
def test_alert_text_fields_must_be_strings(api_client, agent, field):
    alert = {"status": "firing", "labels": {"alertname": "x"}, field: {}}
    response = api_client(agent).post(
        "/api/v1/integrations/alertmanager/", {"version": "4", "alerts": [alert]}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {f"alerts[0].{field}": ["Must be a string."]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field", ["work_notes", "sys_updated_on", "close_notes"]
)  # one read, one echoed back and ignored, one read only when resolving
@pytest.mark.parametrize("value", [False, 2, {"a": 1}])
def test_servicenow_values_are_strings(api_client, agent, field, value):
    response = api_client(agent).post(
        "/api/now/table/incident", {"short_description": "x", field: value}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["detail"] == f"{field}: expected a string."


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "field", "value"),
    [
        ("/api/v1/changes/", "risk_answers", None),
        ("/api/v1/changes/", "risk_answers", "yes"),
        ("/api/v1/cmdb/cis/", "attributes", ["a"]),
    ],
)
def test_json_object_fields_refuse_what_is_not_an_object(api_client, admin_user, url, field, value):
    response = api_client(admin_user).post(url, {"short_description": "x", field: value}, format="json")
    assert response.status_code == 400 and field in response.json()


@pytest.mark.django_db
def test_the_schema_says_which_json_shapes_are_taken(api_client, agent):
    components = api_client(agent).get("/api/v1/schema/?format=json").json()["components"]["schemas"]
    assert components["ChangeRequest"]["properties"]["risk_answers"]["additionalProperties"] is False
    assert components["RuleRequest"]["properties"]["actions"]["minItems"] == 1
    assert "required" not in components["PatchedRequestUpdateRequest"]
    # a request's item and answers cannot be edited after ordering: PUT requires nothing
    assert "required" not in components["RequestUpdateRequest"]
    assert components["RequestUpdateRequest"]["properties"].keys().isdisjoint({"catalog_item", "variables"})


@pytest.mark.django_db
def test_the_compliance_report_refuses_a_short_that_is_not_a_boolean(api_client, agent):
    assert api_client(agent).get("/api/v1/software/compliance/?short=true").status_code == 200
    response = api_client(agent).get("/api/v1/software/compliance/?short=-58800")
    assert response.status_code == 400 and response.json() == {"short": ["Use true or false."]}


@pytest.mark.django_db
def test_a_list_of_references_takes_a_list_not_an_object(api_client, admin_user, server):
    created = api_client(admin_user).post(
        "/api/v1/changes/blackouts/",
        {
            "name": "Freeze",
            "start": "2030-01-01T00:00:00Z",
            "end": "2030-01-02T00:00:00Z",
            "configuration_items": {},
        },
        format="json",
    )
    assert created.status_code == 400 and "configuration_items" in created.json()


@pytest.mark.django_db
def test_a_json_import_refuses_unknown_keys(api_client, admin_user):
    response = api_client(admin_user).post(
        "/api/v1/cmdb/import/", {"cis": [], "relationships": [], "extra": 1}, format="json"
    )
    assert response.status_code == 400 and "extra" in str(response.json())


@pytest.mark.django_db
def test_the_schema_lists_webhook_events_and_clock_times(api_client, agent):
    schemas = api_client(agent).get("/api/v1/schema/?format=json").json()["components"]["schemas"]
    items = schemas["WebhookRequest"]["properties"]["events"]["items"]
    events = schemas[items["allOf"][0]["$ref"].rsplit("/", 1)[1]]["enum"]
    assert {"*", "incident.created", "sla.breached", "change.*"} <= set(events)
    start = schemas["WorkingHours"]["properties"]["start"]
    assert "format" not in start and start["pattern"].startswith("^([01]")


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [{}, None, "x"])
def test_a_json_import_takes_lists_of_rows(api_client, admin_user, rows):
    response = api_client(admin_user).post(
        "/api/v1/cmdb/import/", {"cis": [], "relationships": rows}, format="json"
    )
    assert response.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["state", "hold_reason", "close_code"])
def test_servicenow_null_choices_are_documented_as_taken(api_client, agent, field):
    """null reads as "" for every ServiceNow field; the enum-valued ones say so in the schema too."""
    response = api_client(agent).post(
        "/api/now/table/incident", {"short_description": "x", field: None}, format="json"
    )
    assert response.status_code == 201, response.json()
    schema = api_client(agent).get("/api/v1/schema/?format=json").json()
    create = schema["paths"]["/api/now/table/incident"]["post"]["requestBody"]["content"]["application/json"]
    declared = create["schema"]["properties"][field]
    assert declared["nullable"] and None in declared["enum"]


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value"), [("hold_reason", "AAA"), ("close_code", "Fixed it")])
def test_servicenow_codes_are_checked_even_without_the_move_that_uses_them(api_client, agent, field, value):
    """An unknown hold reason or close code was ignored unless the same write moved the incident to on hold
    or resolved; now it is a 400 naming the field either way."""
    response = api_client(agent).post(
        "/api/now/table/incident", {"short_description": "x", field: value}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["detail"].startswith(f"{field}: {value!r}")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/v1/incidents/?page_size=72932979905145631408128", 200),  # served at the cap
        ("/api/v1/groups/?page_size=0500", 200),
        ("/api/v1/approvals/?page_size=0", 400),
        ("/api/v1/incidents/?page_size=²", 400),
        ("/api/v1/incidents/?sla_definition=1.182732096286036e%2B210", 400),
        ("/api/v1/incidents/?sla_definition=12", 200),
        ("/api/v1/requests/?catalog_item=1e50", 400),
        ("/api/v1/requests/?catalog_item=3,4", 200),
        ("/api/v1/incidents/?urgency=-1818336921,4897", 400),
        ("/api/v1/incidents/?urgency=1,3&priority=2", 200),
        ("/api/v1/contracts/?expiring_within=99999999999999999999", 400),
        ("/api/v1/contracts/?expiring_within=30", 200),
    ],
)
def test_numeric_query_values_are_what_the_schema_says(api_client, agent, url, status):
    """The long fuzz run's findings: a page size of any length is served at the cap; ids, choices and day
    counts are integers within the bounds the schema states (a decimal filter took `1e210` and refused it
    against a schema that said "any number")."""
    response = api_client(agent).get(url)
    assert response.status_code == status, response.json()
    if status == 400:
        assert set(response.json()) == {url.split("?")[1].split("=")[0]}


@pytest.mark.django_db
def test_the_schema_states_the_bounds_of_id_and_choice_filters(api_client, agent):
    schema = api_client(agent).get("/api/v1/schema/?format=json").json()

    def parameter(path, name):
        return next(p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == name)["schema"]

    assert parameter("/api/v1/incidents/", "sla_definition") == {
        "type": "integer",
        "minimum": 1,
        "maximum": 2**63 - 1,
    }
    assert parameter("/api/v1/requests/", "catalog_item")["items"]["minimum"] == 1
    assert parameter("/api/v1/incidents/", "urgency")["items"]["enum"] == [1, 2, 3]
    assert parameter("/api/v1/contracts/", "expiring_within")["maximum"] == 36500


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("sysparm_query=number=INC0000001^ORDERBYDESCpriority", 200),
        ("sysparm_query=%5E%5Estate=2", 200),
        ("sysparm_query=number=a%0Ab", 200),  # a value is anything but ^, new lines included
        ("sysparm_query=number=a%00b", 200),  # NUL cannot reach PostgreSQL
        ("sysparm_query=%0Eo%C2%89", 400),  # not field=value: the documented pattern refuses it too
        ("sysparm_limit=9223372036854775807", 200),  # the schema's maximum, served at 500 rows
        ("sysparm_limit=9223372036854775808", 400),
        ("sysparm_offset=-1", 400),
    ],
)
def test_servicenow_queries_are_what_the_schema_says(api_client, agent, query, status):
    response = api_client(agent).get(f"/api/now/table/incident?{query}")
    assert response.status_code == status, response.json()
    schema = api_client(agent).get("/api/v1/schema/?format=json").json()
    parameters = schema["paths"]["/api/now/table/incident"]["get"]["parameters"]
    pattern = next(p for p in parameters if p["name"] == "sysparm_query")["schema"]["pattern"]
    assert bool(re.search(pattern, "number=INC1^ORDERBYpriority")) and not re.search(pattern, "foo=1")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    ["/api/v1/integrations/alertmanager/", "/api/now/table/incident", "/api/v1/incidents/"],
)
def test_a_nul_character_in_a_json_string_is_a_400_not_a_database_error(api_client, agent, url):
    """The long fuzz run: an alert's startsAt with \\u0000 reached PostgreSQL (which stores no NUL) as a 500."""
    body = (
        '{"version": "4", "alerts": [{"status": "firing", "labels": {"alertname": "x"}, '
        '"startsAt": "a\\u0000b"}], "short_description": "x\\u0000"}'
    )
    response = api_client(agent).post(url, body, content_type="application/json")
    assert response.status_code == 400
    assert "NUL" in response.content.decode()
    text = '{"short_description": "a backslash and u0000 is text: \\\\u0000"}'
    assert (
        api_client(agent).post("/api/v1/incidents/", text, content_type="application/json").status_code == 201
    )


@pytest.mark.django_db
def test_the_servicenow_endpoint_bounds_json_nesting_like_the_rest(api_client, agent):
    body = '{"short_description": "x", "u_deep": ' + "[" * 2000 + "]" * 2000 + "}"
    response = api_client(agent).post("/api/now/table/incident", body, content_type="application/json")
    assert response.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("0291-10-14T21:17:42+23:30", 200),  # RFC 3339 allows it; PostgreSQL gets it in UTC
        ("2026-12-06T10:00:00-23:59", 200),
        ("0001-01-01T00:30:00+01:00", 400),  # before year 1 once in UTC
    ],
)
def test_date_time_filters_take_every_rfc_3339_offset(api_client, agent, value, status):
    response = api_client(agent).get("/api/v1/incidents/", {"sla_after": value, "opened_after": value})
    assert response.status_code == status, response.json()
