"""`make run` listens on loopback unless HOST says otherwise, and warns when debug pages would be exposed."""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _load_run():
    spec = importlib.util.spec_from_file_location("itsm_scripts_run", ROOT / "scripts" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


run = _load_run()


def test_default_is_loopback_without_warning():
    assert run.listen_host({}) == ("127.0.0.1", None)
    assert run.listen_host({"HOST": "localhost"}) == ("localhost", None)


def test_all_interfaces_in_debug_mode_warns():
    host, warning = run.listen_host({"HOST": "0.0.0.0"})
    assert host == "0.0.0.0" and "DEBUG=false" in warning and "ALLOWED_HOSTS" in warning


def test_team_setup_is_quiet():
    assert run.listen_host({"HOST": "0.0.0.0", "DEBUG": "false"}) == ("0.0.0.0", None)
    assert run.listen_host({"HOST": "10.0.0.5", "DJANGO_SETTINGS_MODULE": "itsm.settings.production"}) == (
        "10.0.0.5",
        None,
    )


def test_the_makefile_runs_the_script_that_chooses_the_host():
    assert "scripts/run.py" in (ROOT / "Makefile").read_text()
    assert '"--bind", f"{host}:{port}"' in (ROOT / "scripts" / "run.py").read_text()
