"""What the fuzz run with every check found (issue 26), each kept as a plain regression test: an empty query
parameter means "not filtered" everywhere, the bounds the schema states are the ones enforced, and the JSON
the schema documents as an object or a list is refused when it is not one."""

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
