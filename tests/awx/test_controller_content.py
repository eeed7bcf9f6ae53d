"""The controller content (extensions/patterns/controller_setup): setup.yml, the phases list, the surveys, the
workflow. Checked against awx.awx's own documentation (ansible-doc -j) and the roles' argument specs."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from conftest import PATTERN, REPO, VENV_BIN, load_playbook

SURVEY_TYPES = {  # AWX survey question type -> the argument spec type it can feed
    "text": "str", "textarea": "str", "password": "str", "multiplechoice": "str",
    "multiselect": "list", "integer": "int", "float": "float",
}


def role_options(role: str) -> dict:
    spec = yaml.safe_load((REPO / "roles" / role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    return spec["argument_specs"]["main"]["options"]


def awx_tasks(tasks):
    for task in tasks:
        if "block" in task:
            yield from awx_tasks(task["block"])
            continue
        for key, args in task.items():
            if key.startswith("awx.awx."):
                yield task.get("name", key), key, args


def check_args(module: str, args: dict, options: dict, where: str) -> list[str]:
    """Every argument is a documented option (or alias); literal values respect choices; recurse into suboptions."""
    problems = []
    known = {}
    for name, doc in options.items():
        known[name] = doc
        for alias in doc.get("aliases", []):
            known[alias] = doc
    for name, value in args.items():
        if name not in known:
            problems.append("%s: %s has no option %r" % (where, module, name))
            continue
        doc = known[name]
        literal = isinstance(value, (str, int, bool)) and not (isinstance(value, str) and "{{" in value)
        if literal and doc.get("choices") and value not in doc["choices"]:
            problems.append("%s: %s=%r not in %s" % (where, name, value, doc["choices"]))
        if doc.get("suboptions") and isinstance(value, dict):
            problems += check_args(module, value, doc["suboptions"], where + "." + name)
        if doc.get("suboptions") and isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    problems += check_args(module, item, doc["suboptions"], "%s.%s[%d]" % (where, name, i))
    return problems


def test_setup_playbook_passes_syntax_check(ansible_env):
    proc = subprocess.run([str(VENV_BIN / "ansible-playbook"), str(PATTERN / "setup.yml"), "--syntax-check"],
                          cwd=REPO, env=ansible_env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_awx_module_argument_is_documented_by_awx_awx(ansible_doc):
    play = load_playbook(PATTERN / "setup.yml")[0]
    used = list(awx_tasks(play["tasks"]))
    modules = {module for _, module, _ in used}
    # The content the issue asks for: EE, project, inventory + source, credential types, templates, workflow.
    assert {"awx.awx.project", "awx.awx.inventory", "awx.awx.inventory_source", "awx.awx.credential_type",
            "awx.awx.credential", "awx.awx.job_template", "awx.awx.workflow_job_template"} <= modules
    problems = []
    for name, module, args in used:
        problems += check_args(module, args, ansible_doc(module), name)
    assert problems == []


def test_rendered_workflow_nodes_match_the_modules_suboptions(render, ansible_doc):
    sent = render()
    options = ansible_doc("awx.awx.workflow_job_template")
    problems = check_args("awx.awx.workflow_job_template", {"workflow_nodes": sent["workflow_nodes"]}, options,
                          "workflow")
    assert problems == []


def test_the_argument_checker_catches_an_unknown_option(ansible_doc):
    # The check above would be worthless if it accepted anything.
    options = ansible_doc("awx.awx.job_template")
    assert check_args("awx.awx.job_template", {"name": "x", "surveyspec": {}}, options, "t")
    assert check_args("awx.awx.job_template", {"job_type": "plan"}, options, "t")


def test_every_phase_playbook_has_an_entry_in_the_phases_list(phases):
    listed = {p["playbook"] for p in phases}
    playbooks = {"playbooks/" + p.name for p in (REPO / "playbooks").glob("phase*.yml")}
    playbooks |= {"playbooks/rollback-users.yml"} & {"playbooks/" + p.name for p in (REPO / "playbooks").iterdir()}
    assert playbooks - listed == set(), "add these playbooks to extensions/patterns/controller_setup/phases.yml"


def test_phases_list_is_well_formed(phases):
    ids = [p["id"] for p in phases]
    assert len(ids) == len(set(ids))
    for p in phases:
        assert re.fullmatch(r"[a-z0-9-]+", p["id"]), p["id"]
        assert (REPO / "roles" / p["role"] / "meta" / "argument_specs.yml").is_file(), p
        assert "survey" not in p or (PATTERN / "template_surveys" / p["survey"]).is_file(), p
        assert p["timeout"] > 0 and 1 <= p["stage"] <= 11
        assert isinstance(p["changes_production"], bool) and isinstance(p["in_workflow"], bool)
        for group in p["guided_step_groups"]:
            assert group["id"] and group["name"] and group["checklist"] and group["steps"], group
            assert isinstance(group.get("after_run", False), bool), group
    workflow = [p["phase"] for p in phases if p["in_workflow"]]
    assert workflow == sorted(workflow), "list the workflow phases in phase order"


def test_job_templates_only_for_playbooks_that_exist(render, phases):
    sent = render()
    assert [t["id"] for t in sent["job_templates"]] == [p["id"] for p in phases if (REPO / p["playbook"]).is_file()]
    assert "phase6-move-users" in sent["surveys"]


def test_surveys_agree_with_the_roles_argument_specs(render, phases):
    sent = render()
    by_id = {p["id"]: p for p in phases}
    for template_id, survey in sent["surveys"].items():
        options = role_options(by_id[template_id]["role"])
        for q in survey["spec"]:
            where = "%s: %s" % (template_id, q["variable"])
            assert q["variable"] in options, where + " is not an option of the role"
            opt = options[q["variable"]]
            assert SURVEY_TYPES[q["type"]] == opt.get("type", "str"), where
            if q["type"] == "multiselect":
                assert opt.get("elements") == "str", where
                allowed = opt.get("choices")
                assert q["choices"], where + " has no choices"
                if allowed:
                    assert set(q["choices"]) <= set(allowed), where
            if q["type"] == "multiplechoice":
                if opt.get("choices"):
                    assert set(q["choices"]) == set(opt["choices"]), where
                if "default" in opt:
                    assert q.get("default") == opt["default"], where
            if q["type"] in ("integer", "float"):
                assert q["min"] <= q.get("default", q["min"]) <= q["max"], where
                if "default" in opt and not isinstance(opt["default"], str):
                    assert q.get("default") == opt["default"], where + ": survey default differs from the role's"
            assert "choices_from" not in q


def test_wave_choices_are_the_inventorys_wave_names(render):
    migration = yaml.safe_load((REPO / "inventories/lab/group_vars/all/migration.yml").read_text(encoding="utf-8"))
    waves = [w["name"] for w in migration["lync_migration_waves"]]
    sent = render()
    question = next(q for q in sent["surveys"]["phase6-move-users"]["spec"] if q["variable"] == "move_users_waves")
    assert question["choices"] == waves == ["test", "pilot"]
    # The workflow asks each variable once.
    variables = [q["variable"] for q in sent["workflow_survey"]["spec"]]
    assert len(variables) == len(set(variables)) and "move_users_waves" in variables


class Workflow:
    """The rendered workflow as a graph: success and failure links, one root, every node reachable."""

    def __init__(self, nodes: list[dict]) -> None:
        self.by_id = {n["identifier"]: n for n in nodes}
        assert len(self.by_id) == len(nodes), "identifiers must be unique"
        self.links = {kind: {n["identifier"]: [s["identifier"] for s in n.get("related", {}).get(kind + "_nodes", [])]
                             for n in nodes} for kind in ("success", "failure")}
        targets = {t for kind in self.links.values() for ts in kind.values() for t in ts}
        assert targets <= set(self.by_id), "a link points at no node"
        roots = [i for i in self.by_id if i not in targets]
        assert len(roots) == 1, "the workflow must start at one node: %s" % roots
        self.root = roots[0]
        assert self.reachable(self.root) == set(self.by_id), "some nodes are never reached"

    def reachable(self, start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo += self.links["success"][node] + self.links["failure"][node]
        return seen

    def ancestors(self, node: str) -> set[str]:
        parents = {i for kind in self.links.values() for i, ts in kind.items() if node in ts}
        out = set(parents)
        for parent in parents:
            out |= self.ancestors(parent)
        return out

    def kind(self, node: str) -> str:
        return self.by_id[node]["unified_job_template"]["type"]

    def confirmed(self, node: str) -> list[str]:
        extra = self.by_id[node].get("extra_data", {})
        return [c["step"] for c in extra.get("lync_migration_confirmed_steps", [])]


def phase_jobs(workflow: Workflow, phase_id: str) -> list[str]:
    return [i for i in workflow.by_id if workflow.kind(i) == "job_template"
            and (i == phase_id or i.startswith(phase_id + "-until-"))]


def test_workflow_approves_production_changes_and_leaves_rollback_out(render):
    sent = render()
    workflow = Workflow(sent["workflow_nodes"])
    assert not [i for i in workflow.by_id if i.startswith("rollback-users")]
    for n in workflow.by_id.values():
        if n["unified_job_template"]["type"] == "workflow_approval":
            assert 0 < n["unified_job_template"]["timeout"] <= 7 * 86400
    # Every job of a phase that changes production runs only after that phase's approval; read-only phases have none.
    for template in sent["job_templates"]:
        if not template["in_workflow"]:
            continue
        jobs = phase_jobs(workflow, template["id"])
        assert template["id"] in jobs
        for job in jobs:
            assert ((template["id"] + "-approve") in workflow.ancestors(job)) == template["changes_production"], job
    # Phases in order: each phase's jobs come after every job of the phases before it.
    order = [t["id"] for t in sorted(sent["job_templates"], key=lambda t: t["phase"]) if t["in_workflow"]]
    assert workflow.root == order[0]
    for earlier, later in zip(order, order[1:]):
        assert earlier in workflow.ancestors(later)


def test_every_guided_step_of_the_roles_is_in_one_group_of_its_phase(phases):
    """The groups in phases.yml are filled from the roles' migration_common_step ids: none missing, none invented."""
    for phase in phases:
        if not phase["in_workflow"]:
            continue
        text = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "roles" / phase["role"] / "tasks").rglob("*.yml"))
        role_steps = set(re.findall(r"migration_common_step:\s*\n\s+id:\s*(P[0-9][\w.-]*)", text))
        grouped = [s for g in phase["guided_step_groups"] for s in g["steps"]]
        assert len(grouped) == len(set(grouped)), phase["id"]
        assert set(grouped) == role_steps, phase["id"]


def test_approving_a_guided_step_group_confirms_its_steps_in_the_next_job(render, phases):
    workflow = Workflow(render()["workflow_nodes"])
    last = [p["id"] for p in phases if p["in_workflow"]][-1]
    for phase in (p for p in phases if p["in_workflow"]):
        confirmed: list[str] = []
        for group in phase["guided_step_groups"]:
            approval = phase["id"] + "-guided-" + group["id"]
            assert workflow.kind(approval) == "workflow_approval"
            text = workflow.by_id[approval]["unified_job_template"]["description"]
            assert all(line in text for line in group["checklist"]) and all(s in text for s in group["steps"])
            if group.get("after_run"):
                # The job runs first, stops at the group's first step; its failure leads to this approval.
                [stopped] = [i for i, ts in workflow.links["failure"].items() if approval in ts]
                assert stopped in phase_jobs(workflow, phase["id"]) and workflow.confirmed(stopped) == confirmed
                assert bool(workflow.links["success"][stopped]) == (phase["id"] != last), "a run that completes the phase goes on"
            confirmed = confirmed + group["steps"]
            [after] = workflow.links["success"][approval]
            if workflow.kind(after) == "job_template":
                assert workflow.confirmed(after) == confirmed, after
        # The phase's last job confirms every group, and nothing else confirms any step.
        assert workflow.confirmed(phase["id"]) == confirmed
    for node in workflow.by_id:
        if not any(node in phase_jobs(workflow, p["id"]) for p in phases):
            assert "extra_data" not in workflow.by_id[node], node


def test_job_templates_accept_the_workflows_confirmations():
    play = load_playbook(PATTERN / "setup.yml")[0]
    [template] = [t for t in play["tasks"] if "awx.awx.job_template" in t]
    assert template["awx.awx.job_template"]["ask_variables_on_launch"] is True


def test_workflow_puts_an_approval_before_every_guided_step_group(render, phases):
    phase6 = next(p for p in phases if p["id"] == "phase6-move-users")
    plan = dict(phase6, id="phase1-plan", phase=1, changes_production=False, guided_step_groups=[])
    merge = dict(phase6, id="phase4-merge", phase=4, approval_timeout=3600, guided_step_groups=[
        {"id": "ocswmibc", "name": "P4.1 install OCSWMIBC.msi", "steps": ["P4.1-ocswmibc"],
         "checklist": ["Install OCSWMIBC.msi on the TB computer"]},
        {"id": "merge-wizard", "name": "P4.2 Merge wizard", "steps": ["P4.2-a", "P4.2-b"], "after_run": True,
         "checklist": ["Run the Merge wizard", "Publish"]},
    ])
    workflow = Workflow(render({"lync_awx_phases": [plan, merge, phase6]})["workflow_nodes"])
    assert workflow.links["success"]["phase1-plan"] == ["phase4-merge-approve"]
    assert workflow.links["success"]["phase4-merge-approve"] == ["phase4-merge-guided-ocswmibc"]
    assert workflow.links["success"]["phase4-merge-guided-ocswmibc"] == ["phase4-merge-until-merge-wizard"]
    assert workflow.confirmed("phase4-merge-until-merge-wizard") == ["P4.1-ocswmibc"]
    assert workflow.links["failure"]["phase4-merge-until-merge-wizard"] == ["phase4-merge-guided-merge-wizard"]
    assert workflow.links["success"]["phase4-merge-guided-merge-wizard"] == ["phase4-merge"]
    assert workflow.confirmed("phase4-merge") == ["P4.1-ocswmibc", "P4.2-a", "P4.2-b"]
    assert workflow.links["success"]["phase4-merge-until-merge-wizard"] == ["phase6-move-users-approve"]
    assert workflow.links["success"]["phase4-merge"] == ["phase6-move-users-approve"]
    guided = workflow.by_id["phase4-merge-guided-merge-wizard"]["unified_job_template"]
    assert guided["type"] == "workflow_approval" and guided["timeout"] == 3600
    assert "Run the Merge wizard\nPublish" in guided["description"]
    assert "stopped at guided step P4.2-a" in guided["description"]
