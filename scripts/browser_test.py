#!/usr/bin/env python3
"""Browser tests of jiebang's pages: Debian's chromium, driven by Selenium, against a real server and database.

Run it with `scripts/browser-test`, which installs chromium, chromium-driver and Selenium and builds `jiebang`.
It starts a private `jiebang serve` on an embedded PostgreSQL (as the tour does), loads the demo, drives one
programme through its whole life with the tour's stages (so the lists of winning and successful units are
real), publishes two dozen more challenges over the API (one amended, one titled with a script tag), and then
uses the pages as a person would: an expert signs in and scores the tour's bid (a draft kept over a reload,
then submitted and locked; another expert cannot open that seat), browse, search 稀土, filter by domain, page
forward and back, open a challenge and its amendment history, read a programme's lists; a form without its
CSRF token is refused. A consortium bids in two sessions at once: the lead drafts, sees the blocking rules in
Chinese and invites; the partner's admin finds the invitation in its inbox and accepts with its part; the lead
uploads a PDF, submits, checks the receipt against the database and withdraws. Each check failing ends the run with exit
status 1. A screenshot of each page at 1280 and 375 px wide goes to the folder given by --screenshots.
"""

import argparse
import base64
import contextlib
import datetime as dt
import io
import json
import os
import signal
import subprocess
import threading
import http.server
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tour as tourlib  # noqa: E402  (the tour's server, people and stages)

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import (  # noqa: E402
    NoAlertPresentException, StaleElementReferenceException, WebDriverException)
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

WIDTHS = (1280, 375)
TEST_DOMAIN = "浏览器测试领域"
SCRIPT_TITLE = "<script>alert(1)</script>"
checks = 0


# The text of the page whose contrast with its background is below WCAG 2's AA level: 4.5:1, or 3:1 for large
# text (24 px, or 18.66 px bold). The background is the first opaque one among the element and its ancestors.
CONTRAST_SCRIPT = """
function channel(v) { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }
function luminance(rgb) { return 0.2126 * channel(rgb[0]) + 0.7152 * channel(rgb[1]) + 0.0722 * channel(rgb[2]); }
function parse(text) {
  const m = text.match(/rgba?\\(([^)]+)\\)/);
  if (!m) return null;
  const p = m[1].split(',').map(x => parseFloat(x));
  return {rgb: p.slice(0, 3), alpha: p.length > 3 ? p[3] : 1};
}
function background(el) {
  for (; el; el = el.parentElement) {
    const c = parse(getComputedStyle(el).backgroundColor);
    if (c && c.alpha > 0) return c.rgb;
  }
  return [255, 255, 255];
}
const low = [];
for (const el of document.querySelectorAll('body *')) {
  if (el.closest('svg') || el.getClientRects().length === 0) continue;
  if (!Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim())) continue;
  const style = getComputedStyle(el);
  if (style.visibility === 'hidden') continue;
  const fg = parse(style.color);
  if (!fg) continue;
  const a = luminance(fg.rgb), b = luminance(background(el));
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
  const needed = size >= 24 || (size >= 18.66 && bold) ? 3 : 4.5;
  if (ratio < needed) low.push(el.tagName + ' ' + ratio.toFixed(2) + ' ' + el.textContent.trim().slice(0, 30));
}
return low;
"""


class BrowserFailure(Exception):
    """A page that did not show what a person expects."""


def check(condition, message):
    global checks
    checks += 1
    if not condition:
        raise BrowserFailure(message)
    print(f"  ✓ {message}", flush=True)


# ---------------------------------------------------------------------------------------------------------------------
# The data: the tour's programme, and a second programme of 24 challenges published over the API


def populate(t, before):
    """Runs the tour's stages quietly (their log is printed only if one fails), calling `before[stage]` before a
    stage (the first expert scores on the page once the panel is drawn, the others over the API), then publishes
    the test challenges."""
    log = io.StringIO()
    try:
        for stage in tourlib.STAGES:
            if stage in before:
                before[stage]()
            with contextlib.redirect_stdout(log):
                stage(t)
    except Exception:
        print(log.getvalue()[-6000:])
        raise
    print("the tour's programme is through its whole life (winners, 公示, projects, acceptance, success list)")
    publisher = t.state["publisher"]
    now = dt.datetime.now(dt.timezone.utc)
    year = now.astimezone(tourlib.SHANGHAI).year + 1
    with contextlib.redirect_stdout(log):
        programme = t.call(publisher, "POST", "/v1/programmes", {
            "name": f"{year}年浏览器测试专项", "year": year,
            "applicationOpensAt": tourlib.iso(now - dt.timedelta(hours=1)),
            "applicationClosesAt": tourlib.iso(now + dt.timedelta(days=90)),
            "minPartners": 1, "winnersPerChallenge": 1, "publicityWorkingDays": 5,
        }, expect=201)
        created = []
        for index in range(24):
            title = SCRIPT_TITLE if index == 23 else (
                f"稀土分离提纯测试榜单{index:02d}" if index % 8 == 0 else f"分页测试榜单{index:02d}")
            body = {
                "title": title, "task": f"测试用攻关任务{index:02d}", "content": "用于浏览器测试的攻关内容，说明研究目标与技术路线。",
                "indicators": ["指标一：形成样机", "指标二：通过第三方检测"], "category": "core_basic",
                "domain": TEST_DOMAIN, "industryChain": "装备制造",
                "applicationDeadline": tourlib.iso(now + dt.timedelta(days=20 + index)),
                "completionDeadline": f"{year + 2}-06-30", "fundingCeilingFen": 100_000_000 + index * 1_000_000, "winners": 1,
            }
            challenge = t.call(publisher, "POST", f"/v1/programmes/{programme['id']}/challenges", body, expect=201)
            t.call(publisher, "POST", f"/v1/challenges/{challenge['id']}/publish", expect=200)
            created.append((challenge["id"], body))
        amended_id, amended = created[3]
        changed = dict(amended, applicationDeadline=tourlib.iso(now + dt.timedelta(days=60)), fundingCeilingFen=180_000_000)
        t.call(publisher, "POST", f"/v1/challenges/{amended_id}/amendments",
               {"reason": "根据专家论证意见延长申报期并提高支持额度", "challenge": changed}, expect=201)
    print(f"published 24 challenges in programme {programme['id']}, amended challenge {amended_id}")
    return programme, created, amended_id


# ---------------------------------------------------------------------------------------------------------------------
# The browser


class Browser:
    def __init__(self, base, screenshots):
        options = Options()
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--lang=zh-CN",
                         "--window-size=1280,900"):
            options.add_argument(argument)
        options.binary_location = "/usr/bin/chromium"
        self.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        self.driver.set_page_load_timeout(30)
        self.base = base
        self.screenshots = screenshots

    def open(self, path):
        self.driver.get(self.base + path)

    def navigate(self, action):
        """Does `action` (a click, a key, back) and waits until the next page has loaded."""
        old = self.driver.find_element(By.TAG_NAME, "html")
        action()

        def replaced(_driver):
            # The old page's root is gone once the next page replaced it. Chromium says so as a stale element,
            # or, when the document went away mid-call, as "does not belong to the document".
            try:
                old.is_enabled()
                return False
            except StaleElementReferenceException:
                return True
            except WebDriverException as error:
                if "does not belong to the document" in str(error):
                    return True
                raise

        WebDriverWait(self.driver, 30).until(replaced)
        WebDriverWait(self.driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")

    def click(self, selector):
        self.navigate(self.driver.find_element(By.CSS_SELECTOR, selector).click)

    def text(self, selector):
        return self.driver.find_element(By.CSS_SELECTOR, selector).text

    def titles(self):
        return [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, "ol.results li.challenge h2")]

    def shot(self, name):
        """Saves the whole page at each width (a phone's viewport at 375), and checks that it needs no horizontal
        scrolling there, and that its text has the contrast WCAG asks (4.5:1, 3:1 for large text)."""
        levels = self.driver.execute_script(
            "return Array.from(document.querySelectorAll('h1, h2, h3, h4, h5, h6')).map(h => Number(h.tagName[1]));")
        ordered = levels[:1] == [1] and levels.count(1) == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:]))
        check(ordered, f"{name}: one h1 first, and no heading skips a level" + ("" if ordered else f": {levels}"))
        low = self.driver.execute_script(CONTRAST_SCRIPT)
        check(not low, f"{name}: every text has a contrast of at least 4.5:1 (3:1 when large)" + (f": {low[:5]}" if low else ""))
        for width in WIDTHS:
            self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600})
            overflow = self.driver.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            check(overflow <= 0, f"{name} at {width} px needs no horizontal scrolling")
            size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
            image = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": min(size["height"], 8000), "scale": 1}})
            with open(os.path.join(self.screenshots, f"{name}-{width}.png"), "wb") as handle:
                handle.write(base64.b64decode(image["data"]))
        self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    def quit(self):
        self.driver.quit()


def fetch(url):
    request = urllib.request.Request(url, headers={"Accept": "text/html"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def api_count(base, query):
    """How many challenges /v1/board/challenges finds for `query`, following every page."""
    total, after = 0, None
    while True:
        params = dict(query, limit="100", **({"after": after} if after else {}))
        with urllib.request.urlopen(f"{base}/v1/board/challenges?{urllib.parse.urlencode(params)}", timeout=30) as response:
            page = json.load(response)
        total += len(page["items"])
        after = page.get("next")
        if not after:
            return total


# ---------------------------------------------------------------------------------------------------------------------
# The checks, as a person uses the pages


def browse_board(b, base):
    print("the board")
    b.open("/")
    check(b.driver.title.startswith("榜单大厅"), "the board's title is 榜单大厅")
    check(b.driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN", "the page says it is zh-CN")
    total = api_count(base, {})
    check(f"共 {total} 项榜单" in b.text("#result-count"), f"the board counts all {total} published challenges")
    check(len(b.titles()) == 20, "the first page lists 20 challenges")
    b.shot("board")
    # The keyboard reaches the skip link first, and it moves focus to the content.
    b.driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    active = b.driver.switch_to.active_element
    check(active.text == "跳到正文", "Tab first reaches the skip link")
    for label in b.driver.find_elements(By.CSS_SELECTOR, "form.filters label"):
        target = label.get_attribute("for")
        check(b.driver.find_elements(By.ID, target), f"the label 「{label.text}」 names its field")


def search(b, base):
    print("search 稀土")
    b.open("/")
    field = b.driver.find_element(By.ID, "q")
    field.send_keys("稀土")
    b.navigate(lambda: field.send_keys(Keys.ENTER))
    titles = b.titles()
    expected = api_count(base, {"q": "稀土"})
    check(f"共 {expected} 项榜单" in b.text("#result-count"), f"the count says {expected}, as the API finds")
    check(len(titles) == expected, f"{expected} challenges are listed")
    marks = b.driver.find_elements(By.CSS_SELECTOR, "ol.results mark")
    check(marks and all(m.text == "稀土" for m in marks), "the hits are marked")
    hits = [t for t in titles if "稀土" in t]
    check(len(hits) >= 4, "the challenges with 稀土 in their title are listed")
    check(b.driver.find_element(By.ID, "q").get_attribute("value") == "稀土", "the search field keeps the keyword")
    check("q=%E7%A8%80%E5%9C%9F" in b.driver.current_url, "the keyword is in the address")
    b.shot("search")


def filter_and_page(b):
    print(f"filter by domain {TEST_DOMAIN}, page forward and back")
    b.open("/")
    Select(b.driver.find_element(By.ID, "domain")).select_by_visible_text(TEST_DOMAIN)
    b.click("form.filters button[type=submit]")
    check("共 24 项榜单" in b.text("#result-count"), "24 challenges are in the test domain")
    first = b.titles()
    check(len(first) == 20, "the first page lists 20")
    metas = b.driver.find_elements(By.CSS_SELECTOR, "ol.results .meta")
    check(all(TEST_DOMAIN in m.text for m in metas), "every listed challenge is in the domain")
    check(not b.driver.find_elements(By.CSS_SELECTOR, "a[rel=prev]"), "the first page has no previous link")
    b.click("a[rel=next]")
    second = b.titles()
    check(len(second) == 4, "the second page lists the other 4")
    check(not set(first) & set(second), "no challenge is on both pages")
    check("domain=" in b.driver.current_url, "the filter stays in the address")
    check(Select(b.driver.find_element(By.ID, "domain")).first_selected_option.text == TEST_DOMAIN,
          "the form still shows the filter")
    check(not b.driver.find_elements(By.CSS_SELECTOR, "a[rel=next]"), "the last page has no next link")
    b.shot("board-page-2")
    b.click("a[rel=prev]")
    check(b.titles() == first, "the previous link shows the first page again")
    b.navigate(b.driver.back)
    check(b.titles() == second, "the browser's back button returns to the second page")


def challenge_and_amendments(b, amended_id, amended):
    print("a challenge and its amendment history")
    b.open("/")
    Select(b.driver.find_element(By.ID, "domain")).select_by_visible_text(TEST_DOMAIN)
    b.click("form.filters button[type=submit]")
    link = None
    for _ in range(3):
        found = [a for a in b.driver.find_elements(By.CSS_SELECTOR, "ol.results h2 a") if a.text == amended["title"]]
        if found:
            link = found[0]
            break
        b.click("a[rel=next]")
    check(link is not None, f"the amended challenge 「{amended['title']}」 is on the board")
    b.navigate(link.click)
    check(b.driver.current_url.endswith(f"/challenges/{amended_id}"), "its link opens its page")
    check(b.text("h1") == amended["title"], "the page's heading is its title")
    history = b.text("#amendment-history")
    check("第 2 版" in history, "the history shows version 2")
    check("根据专家论证意见延长申报期并提高支持额度" in history, "the history gives the reason")
    check("申报截止时间" in history and "支持资金上限" in history and "改为：180.00 万元" in history,
          "the history names what changed, money in 万元")
    facts = b.text("dl.facts")
    check("180.00 万元" in facts and "1,800,000.00 元" in facts, "the ceiling shows in 万元 with the exact 元")
    b.shot("challenge")


def script_title(b, created):
    print("a title with a script tag")
    script_id = next(i for i, body in created if body["title"] == SCRIPT_TITLE)
    b.open(f"/challenges/{script_id}")
    check(b.text("h1") == SCRIPT_TITLE, "the title shows as text")
    try:
        b.driver.switch_to.alert
        alerted = True
    except NoAlertPresentException:
        alerted = False
    check(not alerted, "no script ran")
    check(not b.driver.find_elements(By.CSS_SELECTOR, "main script"), "the page holds no script element")


def programme_lists(b, t):
    print("a programme's lists")
    programme = t.state["programme"]
    b.open("/programmes")
    b.navigate(b.driver.find_element(By.LINK_TEXT, programme["name"]).click)
    check(b.text("h1") == programme["name"], "the list of programmes links to the programme")
    lead = t.state["lead_unit"]["name"]
    check(lead in b.driver.find_element(By.XPATH, "//section[h2[@id='winners']]").text, "the winning unit is listed")
    check(lead in b.driver.find_element(By.XPATH, "//section[h2[@id='successes']]").text, "the successful unit is listed")
    b.shot("programme")


def sign_in(b, login, password):
    b.open("/sign-in")
    b.driver.find_element(By.ID, "login").send_keys(login)
    b.driver.find_element(By.ID, "password").send_keys(password)
    b.click("form.stack button[type=submit]")


def sign_out(b):
    b.click("form[action='/sign-out'] button")
    check(b.driver.find_elements(By.LINK_TEXT, "登录"), "signing out leaves the sign-in link")


def csrf_refused(b, t):
    print("a form posted without its CSRF token")
    b.open("/sign-in")
    b.driver.execute_script("document.querySelector('input[name=csrf]').remove()")
    b.driver.find_element(By.ID, "login").send_keys("demo.publisher")
    b.driver.find_element(By.ID, "password").send_keys(t.password)
    b.click("form.stack button[type=submit]")
    check(b.text("h1") == "无权访问" and "表单已失效" in b.text("main"), "the sign-in form without its token is refused")
    check(b.driver.find_elements(By.LINK_TEXT, "登录"), "and nobody is signed in")
    b.open("/sign-in")
    b.driver.find_element(By.ID, "login").send_keys("demo.publisher")
    b.driver.find_element(By.ID, "password").send_keys("not-the-password")
    b.click("form.stack button[type=submit]")
    check("账号或密码不正确" in b.text("main"), "a wrong password is refused without saying which part is wrong")
    b.shot("sign-in")


def expert_scores(b, t):
    """The first panel expert scores the tour's bid on the page; the second cannot open that seat."""
    print("an expert scores on the page")
    s = t.state
    first, second = (s["experts"][expert_id] for expert_id in s["panel"][:2])
    sign_in(b, first.login, t.password)
    check(b.driver.current_url.endswith("/expert"), "an expert lands on the workspace after signing in")
    check(first.label.replace("专家", "") in b.text("header.site"), "the header names who is signed in")
    links = b.driver.find_elements(By.CSS_SELECTOR, "main table a[href^='/expert/assignments/']")
    check(len(links) == 1, "the workspace lists the expert's one seat")
    b.shot("expert-workspace")
    b.navigate(links[0].click)
    seat_url = b.driver.current_url
    check(s["challenge"]["title"] in b.text("h1"), "the seat's page names the challenge")
    check("技术路线" in b.text("#material").replace("\n", "") or "技术路线" in b.text("main"), "the bid's material is shown")
    inputs = b.driver.find_elements(By.CSS_SELECTOR, "input[name^='score.']")
    check(len(inputs) == 4, "the rubric's four criteria each have a score field")
    marks = [88, 92, 85, 80]
    for field, mark in zip(inputs, marks):
        field.clear()
        field.send_keys(str(mark))
    comments = b.driver.find_elements(By.CSS_SELECTOR, "textarea[name^='comment.']")
    for comment in comments:
        comment.send_keys("良好")
    b.click("button[name=action][value=save]")
    check("草稿已保存" in b.text("main"), "saving a draft says so")
    b.navigate(b.driver.refresh)
    kept = [int(f.get_attribute("value")) for f in b.driver.find_elements(By.CSS_SELECTOR, "input[name^='score.']")]
    check(kept == marks, "after a reload the draft's scores are there")
    b.shot("score-sheet")
    b.click("button[name=action][value=submit]")
    check("评分已提交" in b.text("main"), "submitting says so")
    fieldsets = b.driver.find_elements(By.CSS_SELECTOR, "fieldset.criterion")
    check(fieldsets and all(f.get_attribute("disabled") is not None for f in fieldsets), "the submitted form is locked")
    check(not b.driver.find_elements(By.CSS_SELECTOR, "button[name=action]"), "and has no buttons")
    b.shot("score-locked")
    sign_out(b)
    sign_in(b, second.login, t.password)
    b.driver.get(seat_url)
    check(b.text("h1") == "页面不存在", "another expert opening that seat gets the not-found page")
    sign_out(b)
    b.driver.get(seat_url)
    check(b.driver.current_url.split("?")[0].endswith("/sign-in"), "an anonymous visitor is sent to sign in")


def unit_workspace(b, t, created, screenshots):
    """A consortium on the pages, each unit in its own browser session: the lead drafts a bid from a challenge's
    page, sees what blocks submission in Chinese, fills the bid in until only the consortium's rule is left and
    invites the partner by its credit code; the partner's admin finds the invitation in its inbox and accepts
    with its part; the rule is gone for the lead, who uploads a PDF, submits, checks the receipt against the
    database, and withdraws."""
    print("a consortium bids on the pages (two sessions)")
    s = t.state
    challenge_id, body = created[5]
    second = Browser(t.base, screenshots)
    try:
        sign_in(b, "demo.unit", t.password)
        check(b.driver.current_url.endswith("/unit"), "a unit's admin lands on the unit workspace")
        b.open(f"/challenges/{challenge_id}")
        b.click("#draft-bid button")
        check("申报草稿已建立" in b.text("main"), "drafting from the challenge's page opens the new bid")
        bid_id = int(b.driver.current_url.split("?")[0].rsplit("/", 1)[1])
        blockers = b.text("#blockers")
        check("技术路线：必须填写" in blockers, "before anything is written, the page says the technical route is missing")
        check("联合体至少需要 1 家已接受邀请的合作单位" in blockers, "and that the consortium needs an accepted partner")
        check("must" not in blockers, "in Chinese, not the API's English")
        check(not b.driver.find_elements(By.ID, "submit-form"), "and offers no submit button")

        answers = b.driver.find_elements(By.CSS_SELECTOR, "textarea[name^='answer.']")
        check(len(answers) == len(body["indicators"]), "one answer field per indicator of the challenge")
        b.driver.find_element(By.ID, "technicalRoute").send_keys("采用模块化设计与数字孪生联合调试的技术路线，完成样机研制与第三方检测。")
        b.driver.find_element(By.ID, "rdFoundation").send_keys("拥有省级工程技术研究中心与中试车间，具备整机装配与测试条件。")
        for field, answer in zip(answers, ["形成样机两台", "通过省级检测机构第三方检测"]):
            field.send_keys(answer)
        b.driver.find_element(By.ID, "total").send_keys("1000")
        b.driver.find_element(By.ID, "selfFunding").send_keys("900")
        b.driver.find_element(By.ID, "requested").send_keys("100")
        b.driver.find_element(By.ID, "team").send_keys("王强，正高级工程师，兰州稀土新材料科技有限公司，项目负责人")
        b.driver.find_element(By.ID, "commitment").click()
        b.click("#content-form button[type=submit]")
        check("申报内容已保存" in b.text("main"), "the content is saved")
        blockers = b.text("#blockers")
        check("技术路线" not in blockers and "完成承诺" not in blockers, "the content's rules no longer block")
        check("联合体至少需要 1 家已接受邀请的合作单位" in blockers, "the consortium's rule still does")
        b.driver.find_element(By.ID, "creditCode").send_keys(s["partner_unit"]["creditCode"])
        b.click("#invite-form button")
        check("邀请已发出" in b.text("main") and "待答复" in b.text("#members"), "the partner is invited and has not answered")
        check("联合体至少需要 1 家已接受邀请的合作单位" in b.text("#blockers"), "an invitation not yet accepted still blocks")

        sign_in(second, "jc.magnet.admin", t.password)
        check(second.driver.current_url.endswith("/unit"), "the partner's admin, in a session of its own, lands on its workspace")
        check(f"申报 {bid_id}" in second.text("#invitation-list"), "which lists the invitation")
        unread = int(second.text("#unread-count"))
        check(unread >= 1, "and counts its unread messages")
        second.click("#inbox-link")
        check(second.text("#inbox-unread") == f"未读 {unread} 条", "the inbox shows the same unread count")
        item = second.driver.find_element(By.XPATH, f"//ul[@class='inbox']/li[.//a[@href='/unit/bids/{bid_id}']]")
        check("未读" in item.text, "the invitation is unread")
        second.shot("inbox")
        second.navigate(item.find_element(By.CSS_SELECTOR, "form button").click)
        check(second.text("#inbox-unread") == f"未读 {unread - 1} 条", "marking it read lowers the count by one")
        second.navigate(second.driver.find_element(By.CSS_SELECTOR, f"a[href='/unit/bids/{bid_id}']").click)
        second.driver.find_element(By.ID, "partRole").send_keys("样机检测与标准研制")
        second.driver.find_element(By.ID, "tasks").send_keys("负责样机第三方检测与测试方法标准研制")
        second.driver.find_element(By.ID, "budget").send_keys("20")
        second.driver.find_element(By.ID, "contribution").send_keys("CNAS 认可实验室")
        second.click("button[name=decision][value=accept]")
        check("已接受邀请" in second.text("main"), "the partner's admin accepts with its part")
        check(not second.driver.find_elements(By.ID, "content-form"), "and cannot edit the lead's content")
        second.shot("bid-partner")

        b.navigate(b.driver.refresh)
        check("已接受" in b.text("#members") and "20.00 万元" in b.text("#members"), "the lead sees the partner's answer and its budget")
        check(not b.driver.find_elements(By.ID, "blockers"), "and nothing blocks submission any more")
        pdf = os.path.join(t.data, "申报书.pdf")
        with open(pdf, "wb") as handle:
            handle.write(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
        b.driver.find_element(By.ID, "file").send_keys(pdf)
        b.click("#upload-form button")
        check("附件已上传" in b.text("main") and "申报书.pdf" in b.text("#files"), "the PDF is uploaded")
        stored = t.psql(f"SELECT filename || '|' || sha256 FROM bid_attachments WHERE bid_id = {bid_id}").split("|")
        check(stored[0] == "申报书.pdf" and stored[1] in b.text("#files"), "with the database's name and SHA-256")
        b.shot("bid")
        b.click("#submit-form button")
        check("申报已提交" in b.text("main"), "submitting says so")
        digest = t.psql(f"SELECT sha256 FROM bid_submissions WHERE bid_id = {bid_id} AND version = 1")
        check(b.text(".receipt-version") == "1" and b.text(".receipt-sha256") == digest,
              "the receipt shows version 1 and the SHA-256 the database kept")
        check(b.text("#bid-status") == "已提交", "the bid is submitted")
        b.shot("bid-receipt")
        b.driver.find_element(By.ID, "confirm").click()
        b.click("#withdraw-form button")
        check("申报已撤回" in b.text("main"), "withdrawing leads back to the workspace")
        check(t.psql(f"SELECT status FROM bids WHERE id = {bid_id}") == "withdrawn", "and the database says withdrawn")
        check("已撤回" in b.text(f"#bid-{bid_id}"), "the workspace lists it as withdrawn")
        b.shot("unit")
        sign_out(b)
        sign_out(second)
    finally:
        second.quit()


class WebhookReceiver:
    """An endpoint for the partner unit's webhook: nothing listens on its port until `start`, so deliveries fail."""

    def __init__(self):
        self.port = tourlib.free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.received = 0
        self.server = None

    def start(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.received += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        if self.server is not None:
            self.server.shutdown()


def register_webhook(t, hook):
    with contextlib.redirect_stdout(io.StringIO()):
        t.call(t.state["partner"], "POST", "/v1/webhooks", {"url": hook.url}, expect=201)
    print(f"the partner unit registered a webhook at {hook.url}, where nothing listens yet")


def queue_dashboard(b, t, binary, env, hook):
    """An administrator finds a failed delivery on the queue page, retries it once the endpoint is up, and sees it
    complete."""
    print("the queue dashboard")
    login = "ops@example.cn"
    subprocess.run([binary, "users", "create-admin", "--login", login, "--name", "运维值班员"],
                   env=dict(env, JIEBANG_ADMIN_PASSWORD=t.password), check=True, capture_output=True)
    sign_in(b, login, t.password)
    check(b.driver.current_url.endswith("/admin/jobs"), "an administrator lands on the queue page")
    kinds = [e.text for e in b.driver.find_elements(By.CSS_SELECTOR, "main table th[scope=row]")]
    check("webhook.deliver" in kinds and "review.draw" in kinds, "the counts name the kinds the tour ran")
    b.shot("jobs")
    Select(b.driver.find_element(By.ID, "kind")).select_by_visible_text("webhook.deliver")
    Select(b.driver.find_element(By.ID, "state")).select_by_visible_text("待重试")
    b.click("form.filters button[type=submit]")
    rows = b.driver.find_elements(By.CSS_SELECTOR, "#jobs tbody tr")
    check(rows, "a failed webhook delivery waits to be retried")
    check("refused" in rows[0].text.lower() or "connect" in rows[0].text.lower(), "its last error says why")
    b.navigate(rows[0].find_element(By.TAG_NAME, "a").click)
    check(b.text("#job-state") == "待重试", "the job's page shows it waiting to retry")
    check(b.driver.find_elements(By.CSS_SELECTOR, "table td.error-text"), "and lists its errors")
    check('"delivery"' in b.text("pre.code"), "its arguments are shown")
    b.shot("job")
    hook.start()
    b.click("form[action$='/retry'] button")
    check("已重新排入队列" in b.text("main"), "retrying says so")
    deadline = time.monotonic() + 30
    while b.text("#job-state") != "已完成" and time.monotonic() < deadline:
        time.sleep(0.5)
        b.navigate(b.driver.refresh)
    check(b.text("#job-state") == "已完成", "the retried job completes")
    check(hook.received >= 1, "and the endpoint received the delivery")
    sign_out(b)


def bureau_dashboard(b, t):
    """The publisher's dashboard of the tour's programme shows the database's figures."""
    print("the bureau's dashboard")
    programme = t.state["programme"]
    sign_in(b, "demo.publisher", t.password)
    check(b.driver.current_url.endswith("/bureau"), "a publisher lands on the programme dashboards")
    b.navigate(b.driver.find_element(By.LINK_TEXT, programme["name"]).click)
    total = int(t.psql(f"SELECT count(*) FROM bids WHERE programme_id = {programme['id']}"))
    check(b.text("#bid-total") == str(total), f"the dashboard counts the programme's {total} bids, as the database does")
    by_status = dict(line.split("|") for line in t.psql(
        f"SELECT status::text, count(*) FROM bids WHERE programme_id = {programme['id']} GROUP BY 1").splitlines())
    shown = {e.get_attribute("textContent").split("：")[0]: int(e.get_attribute("textContent").split("：")[1])
             for e in b.driver.find_elements(By.CSS_SELECTOR, "#by-status title")}
    names = {"draft": "草稿", "submitted": "已提交", "returned": "退回修改", "recommended": "已推荐", "declined": "未获推荐",
             "withdrawn": "已撤回", "formal_passed": "形式审查通过", "formal_failed": "形式审查未通过"}
    check(all(shown[names[k]] == int(v) for k, v in by_status.items()) and sum(shown.values()) == total,
          "the status chart's values are the database's")
    seats = int(t.psql(
        "SELECT count(*) FROM review_assignments a JOIN review_rounds r ON r.id = a.round_id "
        f"WHERE r.programme_id = {programme['id']} AND a.role = 'panel' AND a.status = 'active' AND r.status <> 'preparing'"))
    check(f"应评 {seats}" in b.text("#progress-text"), f"the review progress counts its {seats} panel seats")
    b.shot("dashboard")
    sign_out(b)
    print("the municipal workspace")
    sign_in(b, "demo.lanzhou", t.password)
    check(b.driver.current_url.endswith("/municipal"), "a recommender lands on the recommendation workspace")
    bid = t.state["bid"]
    check(b.driver.find_elements(By.ID, f"bid-{bid['id']}"), "the region's bid from the tour is listed")
    check("形式审查通过" in b.text(f"#bid-{bid['id']}"), "with its status after the formal check")
    check("已用 1 项" in b.text(f"#quota-{programme['id']}"), "and the recommendation it used")
    b.shot("municipal")
    sign_out(b)


def error_pages(b, base):
    print("error pages and headers")
    b.open("/challenges/999999")
    check(b.text("h1") == "页面不存在", "an unknown challenge is a Chinese not-found page")
    b.shot("not-found")
    status, headers, body = fetch(base + "/challenges/999999")
    check(status == 404 and headers.get("Content-Type", "").startswith("text/html"), "it answers 404 with HTML")
    check("Traceback" not in body and "Error" not in body, "it shows no trace")
    status, headers, _ = fetch(base + "/")
    policy = headers.get("Content-Security-Policy", "")
    check("script-src 'self'" in policy and "unsafe-inline" not in policy, "the CSP forbids inline script")
    check("frame-ancestors 'none'" in policy, "no one may frame the pages")
    check(headers.get("X-Content-Type-Options") == "nosniff", "nosniff is set")
    b.open("/")
    # Set through the DOM: the CSP forbids inline style attributes.
    b.driver.execute_script(
        "const p = document.createElement('p'); p.textContent = '浅灰色的说明文字'; p.style.color = '#aaa';"
        " document.querySelector('main').appendChild(p);")
    low = b.driver.execute_script(CONTRAST_SCRIPT)
    check(len(low) == 1 and "浅灰色" in low[0], "the contrast check finds pale grey text on white (2.3:1)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--screenshots", required=True)
    arguments = parser.parse_args()
    binary = os.path.abspath(arguments.bin)
    screenshots = os.path.abspath(arguments.screenshots)
    os.makedirs(screenshots, exist_ok=True)
    started = time.monotonic()
    data, port, env = tourlib.private_environment("jiebang-browser.")
    t = tourlib.Tour(binary, f"http://127.0.0.1:{port}", env, data)
    log_path = os.path.join(data, "serve.log")
    server, cluster_dir, browser, hook = None, None, None, None

    def terminate(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    status = 1
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            t.cli(["seed-demo", "--accounts-password", t.password], "loads the demo")
        server, cluster_dir = tourlib.start_server(binary, t.base, env, log_path)
        print(f"browser-test: a private jiebang on {t.base}")
        browser = Browser(t.base, screenshots)
        hook = WebhookReceiver()
        programme, created, amended_id = populate(t, {
            tourlib.stage_bid: lambda: register_webhook(t, hook),
            tourlib.stage_scoring: lambda: expert_scores(browser, t),
        })
        amended = next(body for i, body in created if i == amended_id)
        unit_workspace(browser, t, created, screenshots)
        csrf_refused(browser, t)
        queue_dashboard(browser, t, binary, env, hook)
        bureau_dashboard(browser, t)
        browse_board(browser, t.base)
        search(browser, t.base)
        filter_and_page(browser)
        challenge_and_amendments(browser, amended_id, amended)
        script_title(browser, created)
        programme_lists(browser, t)
        error_pages(browser, t.base)
        print(f"browser-test: {checks} checks passed in {time.monotonic() - started:.0f} s; screenshots in {screenshots}")
        status = 0
    except (BrowserFailure, tourlib.TourFailure) as failure:
        print(f"\nbrowser-test: FAILED: {failure}", file=sys.stderr, flush=True)
        if browser is not None:
            browser.driver.save_screenshot(os.path.join(screenshots, "failure.png"))
            print(f"browser-test: the page at {browser.driver.current_url} is in {screenshots}/failure.png", file=sys.stderr)
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else 1
    except Exception as error:
        import traceback
        traceback.print_exc()
        print(f"\nbrowser-test: FAILED: {error!r}", file=sys.stderr, flush=True)
        if browser is not None:
            browser.driver.save_screenshot(os.path.join(screenshots, "failure.png"))
            print(f"browser-test: the page at {browser.driver.current_url} is in {screenshots}/failure.png", file=sys.stderr)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if hook is not None:
            hook.stop()
        if browser is not None:
            browser.quit()
        tourlib.stop_server(binary, env, server, data, cluster_dir, log_path, failed=status != 0, name="browser-test")
    return status


if __name__ == "__main__":
    sys.exit(main())
