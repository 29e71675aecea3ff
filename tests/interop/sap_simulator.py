"""Running SAP's e-mobility charging stations simulator (Node.js; not ours, not in this repo)
against a running OpenCPMS.

Where the simulator is: ``OPENCPMS_SAP_SIM_DIR`` (a checkout of
github.com/SAP/e-mobility-charging-stations-simulator, built with ``pnpm build`` so that
``dist/start.js`` exists), and ``OPENCPMS_SAP_SIM_NODE`` (a Node.js 22+ binary; ``node`` on the
PATH by default). docs/interop.md says how to build it.

The simulator reads its configuration from ``dist/assets``; each run works on a copy of
``dist`` in a temporary directory, with templates derived from the simulator's own.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MIN_NODE_MAJOR = 22


@dataclass(frozen=True)
class SapSimulator:
    checkout: Path
    node: str

    @classmethod
    def find(cls) -> SapSimulator | str:
        """The simulator, or the reason it cannot run here."""
        configured = os.environ.get("OPENCPMS_SAP_SIM_DIR")
        if not configured:
            return "OPENCPMS_SAP_SIM_DIR is not set (see docs/interop.md)"
        checkout = Path(configured)
        if not (checkout / "dist" / "start.js").is_file():
            return f"{checkout}/dist/start.js is missing: build the simulator with 'pnpm build'"
        node = os.environ.get("OPENCPMS_SAP_SIM_NODE") or shutil.which("node")
        if node is None:
            return "no Node.js: set OPENCPMS_SAP_SIM_NODE"
        version = subprocess.run(
            [node, "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
        match = re.match(r"v(\d+)\.", version)
        if match is None or int(match.group(1)) < MIN_NODE_MAJOR:
            return f"the simulator needs Node.js {MIN_NODE_MAJOR}+, {node} is {version or '?'}"
        return cls(checkout, node)

    def prepare(self, workdir: Path, *, gateway_url: str, stations: list[StationPlan]) -> Path:
        """A runnable copy of the simulator in ``workdir`` with one template per station."""
        shutil.copytree(self.checkout / "dist", workdir / "dist")
        (workdir / "node_modules").symlink_to(self.checkout / "node_modules")
        shutil.copy(self.checkout / "package.json", workdir / "package.json")
        assets = workdir / "dist" / "assets"
        templates = self.checkout / "src" / "assets" / "station-templates"
        urls = []
        for plan in stations:
            template = json.loads((templates / plan.template).read_text(encoding="utf-8"))
            name = f"opencpms-{plan.station_id}.station-template.json"
            (assets / "station-templates" / name).write_text(
                json.dumps(plan.apply(template, gateway_url)), encoding="utf-8"
            )
            (assets / f"idtags-{plan.station_id}.json").write_text(
                json.dumps([plan.id_tag]), encoding="utf-8"
            )
            urls.append({"file": name, "numberOfStations": 1})
        config = {
            "supervisionUrls": [gateway_url],
            "log": {
                "file": str(workdir / "combined.log"),
                "errorFile": str(workdir / "error.log"),
                "level": "info",
                "console": True,
            },
            "worker": {"processType": "workerSet"},
            "performanceStorage": {"enabled": False, "type": "none"},
            "uiServer": {"enabled": False},
            "persistState": False,
            "stationTemplateUrls": urls,
        }
        (assets / "config.json").write_text(json.dumps(config), encoding="utf-8")
        return workdir

    def command(self, workdir: Path) -> list[str]:
        return [self.node, str(workdir / "dist" / "start.js")]


@dataclass(frozen=True)
class StationPlan:
    """One simulated station: which of the simulator's templates, and who it is to us."""

    template: str
    station_id: str
    password: str
    id_tag: str
    # Short sessions with meter values every few seconds, so energy accrues within a test.
    session_s: tuple[int, int] = (40, 45)
    sample_interval_s: int = 3

    def apply(self, template: dict[str, Any], gateway_url: str) -> dict[str, Any]:
        template = dict(template)
        template.pop("supervisionUrlOcppConfiguration", None)
        template.update(
            baseName=self.station_id,
            fixedName=True,
            supervisionUrls=[gateway_url],
            supervisionUser=self.station_id,
            supervisionPassword=self.password,
            idTagsFile=f"idtags-{self.station_id}.json",
            AutomaticTransactionGenerator={
                "enable": True,
                "minDuration": self.session_s[0],
                "maxDuration": self.session_s[1],
                "minDelayBetweenTwoTransactions": 2,
                "maxDelayBetweenTwoTransactions": 3,
                "probabilityOfStart": 1,
                "stopAfterHours": 1,
                "requireAuthorize": True,
            },
        )
        interval_keys = {"MeterValueSampleInterval", "SampledDataCtrlr.TxUpdatedInterval"}
        configuration = template.get("Configuration", {})
        for key in configuration.get("configurationKey", []):
            if key.get("key") in interval_keys:
                key["value"] = str(self.sample_interval_s)
        return template
