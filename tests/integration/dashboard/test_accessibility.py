"""The dashboard against WCAG 2 A and AA, checked by a tool, and by keyboard.

axe-core (vendored under ``vendor/axe-core``, test-only) is injected into each page once its charts
and map are drawn and runs the WCAG 2.0 A/AA rules: contrast, names of controls, regions and images,
labels, landmarks, ARIA. Nothing is excluded. Live updates are held while axe reads the page so that
it never sees a table being swapped, and the browser asks for reduced motion so that no chart is
half-way through an animation. axe leaves the text of the charts' SVG "to review" (it cannot tell
what is behind SVG text), so that contrast is checked here directly. A second test walks the top
of a page with the Tab key as a person without a mouse would: the skip link, the page links, the
filter form and its Apply button, each with a focus indicator of 3:1 against what is behind it,
and Enter on a page link opens that page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import scenario
from .harness import PLAYWRIGHT_REASON, Browser, browser_page, requires_chromium

pytestmark = requires_chromium
sync_api = pytest.importorskip("playwright.sync_api", reason=PLAYWRIGHT_REASON)
expect = sync_api.expect
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]}, "resultTypes": ["violations"]}
PAGES = ["/", "/reliability", "/bays", "/demand", f"/demand?station={scenario.station_id('A1')}", "/energy",
         "/where-next"]
CHART_PAGES = [p for p in PAGES if p not in ("/", "/where-next")]  # the pages with charts
NAV = ["Overview", "Reliability & SLA", "Blocked bays", "Demand", "Energy & revenue", "Where next"]


@pytest.fixture
def axe_browser(chromium: Any, base: str) -> Iterator[Browser]:
    """The dashboard's Content-Security-Policy (script-src 'self') rightly refuses the script tag
    that brings axe in; this context alone bypasses it (the other tests keep it enforced)."""
    with browser_page(chromium, base, bypass_csp=True, reduced_motion="reduce") as seen:
        yield seen


def _hold_live_updates(page: Any) -> None:
    """The page fetches itself with fragment=1 every second and swaps its sections; leave those
    requests unanswered (a handler that never continues them) so the page stays as rendered."""
    page.route(lambda url: "fragment=1" in url, lambda route: None)


def _drawn(page: Any) -> None:
    for chart in page.locator("[data-chart]").all():
        expect(chart.locator("svg")).to_be_visible()
    if page.locator("[data-map]").count():
        expect(page.locator(".leaflet-marker-icon").first).to_be_visible()


def _axe(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    violations: list[dict[str, Any]] = results["violations"]
    return violations


def _report(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:3]]
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} "
                     f"[{len(violation['nodes'])} elements] first: {targets}")
        lines.append("    " + violation["nodes"][0].get("failureSummary", "").replace("\n", "\n    "))
    return "\n".join(lines)


def _rgb(css: str) -> tuple[float, float, float, float]:
    """The first colour in a computed CSS value: 'rgb(1, 2, 3)', 'rgba(1, 2, 3, 0.5)'."""
    found = re.search(r"rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)", css)
    assert found, css
    red, green, blue, alpha = found.groups()
    return float(red), float(green), float(blue), float(alpha) if alpha is not None else 1.0


def _contrast(one: tuple[float, ...], other: tuple[float, ...]) -> float:
    """WCAG 2 contrast ratio of two opaque sRGB colours."""
    def luminance(colour: tuple[float, ...]) -> float:
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (x / 255 for x in colour[:3])]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


# the first opaque background colour at or above an element (the page's, in the end)
BACKGROUND_JS = """element => {
  for (let node = element; node; node = node.parentElement) {
    const colour = getComputedStyle(node).backgroundColor;
    if (colour && !/^rgba\\(.*, 0\\)$/.test(colour) && colour !== 'transparent') { return colour; }
  }
  return 'rgb(255, 255, 255)';
}"""


@pytest.mark.parametrize("path", PAGES)
def test_axe_finds_no_wcag_a_or_aa_violations(axe_browser: Browser, path: str) -> None:
    page = axe_browser.page
    _hold_live_updates(page)
    axe_browser.open(path)
    _drawn(page)
    violations = _axe(page)
    assert violations == [], f"axe-core on {path}:\n{_report(violations)}"
    assert axe_browser.errors == []


def test_axe_on_a_stale_page_and_an_error_page(axe_browser: Browser) -> None:
    page = axe_browser.page
    # the live update fails: the status line turns red and says so
    page.route(lambda url: "fragment=1" in url, lambda route: route.abort())
    axe_browser.open("/bays")
    _drawn(page)
    expect(page.locator("#live-status.stale")).to_contain_text("live update failed")
    page.unroute_all()
    _hold_live_updates(page)  # no further swaps while axe reads the page
    violations = _axe(page)
    assert violations == [], f"axe-core on a stale page:\n{_report(violations)}"
    # a bad address: the 4xx page
    response = page.goto(axe_browser.base + "/?operator=cpoZ")
    assert response is not None and response.status == 404
    violations = _axe(page)
    assert violations == [], f"axe-core on the 404 page:\n{_report(violations)}"


def test_the_check_catches_what_it_should(axe_browser: Browser) -> None:
    """The harness is not vacuous: text of 2.3:1 and an unlabelled field planted in a page are found."""
    page = axe_browser.page
    _hold_live_updates(page)
    axe_browser.open("/energy")
    page.evaluate("""() => {
      const main = document.getElementById('content');
      main.insertAdjacentHTML('beforeend', '<p id="planted" style="color: #999; background: #fff">faint</p>'
                                         + '<input id="unlabelled">');
    }""")
    found = {violation["id"]: violation["nodes"][0]["target"] for violation in _axe(page)}
    assert found == {"color-contrast": ["#planted"], "label": ["#unlabelled"]}


@pytest.mark.parametrize("path", CHART_PAGES)
def test_chart_text_has_aa_contrast(axe_browser: Browser, path: str) -> None:
    """axe reports SVG text as 'needs review'; every text of every chart is checked here against the
    card behind the chart (the charts draw no background of their own)."""
    page = axe_browser.page
    _hold_live_updates(page)
    axe_browser.open(path)
    _drawn(page)
    texts = page.evaluate("""() => [...document.querySelectorAll('[data-chart] svg text')].map(text => {
      const style = getComputedStyle(text);
      return {chart: text.closest('[data-chart]').dataset.chart, text: text.textContent, fill: style.fill,
              opacity: Number(style.fillOpacity) * Number(style.opacity), size: parseFloat(style.fontSize)};
    })""")
    assert texts, path
    background = _rgb(page.locator("[data-chart]").first.evaluate(BACKGROUND_JS))
    poor = [(t["chart"], t["text"], t["fill"], round(_contrast(_rgb(t["fill"]), background), 2))
            for t in texts if t["opacity"] < 1 or _contrast(_rgb(t["fill"]), background) < 4.5]
    assert poor == [], path  # every chart's text is below 18.66 px, so 4.5:1 applies


def _focused(page: Any) -> dict[str, Any]:
    focus: dict[str, Any] = page.evaluate("() => {\n  const behind = " + BACKGROUND_JS + """;
      const element = document.activeElement;
      const style = getComputedStyle(element);
      const box = element.getBoundingClientRect();
      return {tag: element.tagName.toLowerCase(), name: element.getAttribute('name'),
              text: (element.innerText || '').trim(), href: element.getAttribute('href'),
              outline: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth),
              outlineColor: style.outlineColor, boxShadow: style.boxShadow,
              visible: box.width > 0 && box.height > 0 && box.right > 0 && box.bottom > 0,
              behind: behind(element.parentElement)};
    }""")
    return focus


def _indicator_contrast(focus: dict[str, Any]) -> float:
    """The best contrast of the focus indicator's colours (outline, box-shadow) with what is behind it."""
    behind = _rgb(focus["behind"])
    colours = []
    if focus["outline"] != "none" and focus["outlineWidth"] > 0:
        colours.append(_rgb(focus["outlineColor"]))
    if focus["boxShadow"] != "none":
        colours.append(_rgb(focus["boxShadow"]))
    return max((_contrast(colour, behind) for colour in colours), default=0.0)


def test_the_keyboard_reaches_the_pages_and_the_filters_with_a_visible_focus(browser: Browser) -> None:
    page = browser.open("/demand")  # the page with the most filters (a station too)
    stops: list[dict[str, Any]] = []
    for _ in range(20):  # from the top of the page to the Apply button
        page.keyboard.press("Tab")
        focus = _focused(page)
        stops.append(focus)
        if focus["tag"] == "button":
            break
    names = [s["text"] if s["tag"] in ("a", "button") else f"{s['tag']}[name={s['name']}]" for s in stops]
    assert names == ["Skip to content", *NAV, "select[name=operator]", "select[name=area]",
                     "select[name=station]", "input[name=period]", "Apply"]
    for stop, name in zip(stops, names, strict=True):
        assert stop["visible"], name
        assert (stop["outline"] != "none" and stop["outlineWidth"] >= 2) or stop["boxShadow"] != "none", (name, stop)
        assert _indicator_contrast(stop) >= 3, (name, stop)  # WCAG 1.4.11: 3:1 for what shows the focus

    # Enter on a page link opens it (Shift+Tab back from the form to the last link, then the one before)
    for _ in range(len(names)):
        page.keyboard.press("Shift+Tab")
        if _focused(page)["text"] == "Reliability & SLA":
            break
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/reliability$"))
    expect(page.locator('nav a[aria-current="page"]')).to_have_text("Reliability & SLA")
    # and the skip link takes the focus past the navigation to the content
    page.keyboard.press("Tab")
    assert _focused(page)["text"] == "Skip to content"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert _focused(page)["name"] == "operator"
    assert browser.errors == []
