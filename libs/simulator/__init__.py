"""opencpms-sim: charge points that are not real, for trying out and measuring an OpenCPMS
installation. Built on the ``ocpp`` package and ``websockets``."""
