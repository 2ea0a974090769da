from __future__ import annotations

import pytest

from tests.deploy.manifests import DEPLOY, OVERLAYS, Rendered, RenderError, render


@pytest.fixture(scope="session")
def rendered_overlays() -> dict[str, Rendered]:
    """Each overlay rendered once per session (`kubectl kustomize deploy/overlays/<name>`)."""
    try:
        return {name: Rendered(name, render(DEPLOY / "overlays" / name)) for name in OVERLAYS}
    except RenderError as error:
        message = str(error)
    pytest.fail(message, pytrace=False)


@pytest.fixture(params=OVERLAYS)
def rendered(request: pytest.FixtureRequest, rendered_overlays: dict[str, Rendered]) -> Rendered:
    return rendered_overlays[request.param]
