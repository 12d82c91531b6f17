#!/usr/bin/env python3
"""A tour of jiebang: one programme through its whole life, over HTTP.

Run it with `scripts/tour` (which builds `jiebang`). It starts a private
`jiebang serve` (with its job workers) on an embedded PostgreSQL in a fresh
temporary folder, drives one 揭榜挂帅 programme from the demand table to a
running project as the people who would do each step, prints who did what
(method, path, status, the key parts of the answer), prints the public lists,
and stops and removes everything at the end, also on failure. Any answer that
is not the one expected ends the tour with exit status 1.

Only the Python standard library is used. Each stage of the life is one
function in STAGES; acceptance and the success list (not in the API yet) are
`stage_acceptance` and `stage_public_lists`.
"""

import argparse
import csv
import datetime as dt
import json
import math
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


class TourFailure(Exception):
    """An answer the tour did not expect."""


# ---------------------------------------------------------------------------------------------------------------------
# Printing


def heading(text):
    print(f"\n== {text} ==", flush=True)


def note(text):
    print(f"tour: {text}", flush=True)


def detail(text):
    print(f"      {text}", flush=True)


def yuan(fen):
    """Fen as yuan with thousands separators (10,000,000 CNY)."""
    return f"{fen / 100:,.0f} CNY"


# ---------------------------------------------------------------------------------------------------------------------
# People and HTTP


class Person:
    """Someone signed in: their login, name as the system shows it, token and ids."""

    def __init__(self, login, label):
        self.login = login
        self.label = label
        self.token = None
        self.user = {}

    def __str__(self):
        return f"{self.label} ({self.login})"


PUBLIC = None  # anonymous requests


class Tour:
    def __init__(self, binary, base, env, data):
        self.binary = binary
        self.base = base
        self.env = env
        self.data = data
        self.password = "tour-" + secrets.token_hex(8)
        self.state = {}

    # -- HTTP ---------------------------------------------------------------------------------------------------------

    def call(self, who, method, path, body=None, expect=200, what=None, show=None, content_type="application/json",
             actor=None):
        """Sends one request as `who` and checks its status; prints the step (by `actor`, default `who`) and what
        `show` picks out of the answer.

        Returns the decoded JSON answer (or text for other content types)."""
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            if content_type == "application/json":
                data = json.dumps(body, ensure_ascii=False).encode()
            else:
                data = body if isinstance(body, bytes) else body.encode()
            headers["Content-Type"] = content_type
        if who is not None:
            headers["Authorization"] = f"Bearer {who.token}"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                status, raw, kind = response.status, response.read(), response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
            status, raw, kind = error.code, error.read(), error.headers.get("Content-Type", "")
        text = raw.decode("utf-8", errors="replace")
        answer = json.loads(text) if "json" in kind and text else text
        actor = actor or (str(who) if who is not None else "anyone")
        if what:
            print(f"[{actor}] {what}", flush=True)
        line = f"      {method} {path} → {status}"
        if status != expect:
            print(line + f"   UNEXPECTED, wanted {expect}", flush=True)
            print("      " + (json.dumps(answer, ensure_ascii=False)[:2000] if not isinstance(answer, str) else answer[:2000]))
            raise TourFailure(f"{method} {path} answered {status}, not {expect}")
        summary = show(answer) if show else ""
        print(line + (f"   {summary}" if summary else ""), flush=True)
        return answer

    def sign_in(self, person):
        session = self.call(
            PUBLIC, "POST", "/v1/sessions", {"login": person.login, "password": self.password}, expect=201,
            what="signs in", actor=str(person),
            show=lambda s: f"role {s['user']['role']}" + (f", unit {s['user']['unitID']}" if "unitID" in s["user"] else "")
            + (f", bureau {s['user']['bureauID']}" if "bureauID" in s["user"] else ""))
        person.token = session["token"]
        person.user = session["user"]
        return person

    # -- the CLI ------------------------------------------------------------------------------------------------------

    def cli(self, args, what, expect_status=0, shown=None):
        """Runs `jiebang ARGS` against the tour's database (the operator's side) and prints its output."""
        print(f"[operator] {what}", flush=True)
        print(f"      $ jiebang {' '.join(shown or args)}", flush=True)
        result = subprocess.run([self.binary, *args], env=self.env, capture_output=True, text=True)
        for line in (result.stderr + result.stdout).strip().splitlines():
            line = line.strip().split("\r")[-1]
            if line:
                detail(line)
        if result.returncode != expect_status:
            raise TourFailure(f"jiebang {args[0]} exited {result.returncode}, not {expect_status}")
        return result.stdout

    def psql(self, sql):
        """Runs SQL in the tour's own private database (only the 公示 clock shortcut does)."""
        status = subprocess.run(
            [self.binary, "db", "status"], env=self.env, capture_output=True, text=True, check=True).stdout
        connection = next(line.split("=", 1)[1].strip('"') for line in status.splitlines() if line.startswith("DATABASE_URL="))
        result = subprocess.run(
            ["psql", connection, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-c", sql], capture_output=True, text=True)
        if result.returncode != 0:
            raise TourFailure(f"psql failed: {result.stderr.strip()}")
        return result.stdout.strip()


def expect(condition, message):
    if not condition:
        raise TourFailure(message)


def iso(moment):
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def credit_code(prefix):
    """Completes 17 characters into a 统一社会信用代码 (GB 32100-2015 check character)."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    total = sum(alphabet.index(c) * w for c, w in zip(prefix, weights))
    return prefix + alphabet[(31 - total % 31) % 31]


# ---------------------------------------------------------------------------------------------------------------------
# The stages of the life of a programme. Each takes the tour and keeps what later stages need in tour.state.


def stage_people(t):
    heading("0. People: the demo's accounts, a partner unit, the expert pool")
    s = t.state
    s["publisher"] = t.sign_in(Person("demo.publisher", "甘肃省工信厅发榜员"))
    s["lanzhou"] = t.sign_in(Person("demo.lanzhou", "兰州市工信局推荐员"))
    s["lead"] = t.sign_in(Person("demo.unit", "兰州稀土新材料科技有限公司管理员"))
    s["bystander"] = t.sign_in(Person("demo.expert", "行业专家 (demo)"))
    lead_unit = t.call(
        s["lead"], "GET", f"/v1/units/{s['lead'].user['unitID']}", what="the lead unit reads its record",
        show=lambda u: f"{u['name']}, 统一社会信用代码 {u['creditCode']}, region {u['regionCode']}")
    s["lead_unit"] = lead_unit

    partner_code = credit_code("91620300MA71TR001")
    partner = t.call(
        PUBLIC, "POST", "/v1/units", {
            "unit": {
                "kind": "enterprise", "name": "金昌稀土磁材检测中心有限公司", "creditCode": partner_code,
                "regionCode": "620300", "natures": ["private", "high_tech"], "contactName": "孙工",
                "contactPhone": "0935-8201234", "contactEmail": "sun@jc-magnet.example.cn"},
            "admin": {"login": "jc.magnet.admin", "displayName": "金昌稀土磁材检测中心管理员", "password": t.password},
        }, expect=201, what="a partner unit registers itself with its first admin (open registration)",
        show=lambda u: f"unit {u['id']} {u['name']}, region {u['regionCode']} (金昌市)")
    s["partner_unit"] = partner
    s["partner"] = t.sign_in(Person("jc.magnet.admin", "金昌稀土磁材检测中心管理员"))
    expect(partner["verification"] == "pending", "a unit that registers itself is pending until its bureau verifies it")
    licence = "%PDF-1.7\n% 营业执照 (the tour's stand-in)\n%%EOF\n".encode()
    t.call(
        s["partner"], "PUT", f"/v1/units/{partner['id']}/licence?filename=" + urllib.parse.quote("营业执照.pdf"), licence,
        content_type="application/pdf", what="the partner's admin uploads its business licence (营业执照)",
        show=lambda l: f"{l['filename']}, {l['sizeBytes']} bytes, sha256 {l['sha256'][:12]}…")
    # The demo has no Jinchang bureau, so a system administrator verifies the unit, as the bureau would.
    subprocess.run([t.binary, "users", "create-admin", "--login", "tour.admin", "--name", "系统管理员"],
                   env=dict(t.env, JIEBANG_ADMIN_PASSWORD=t.password), check=True, capture_output=True)
    s["admin"] = t.sign_in(Person("tour.admin", "系统管理员"))
    waiting = t.call(
        s["admin"], "GET", "/v1/units/pending", what="the administrator lists the units waiting for verification",
        show=lambda p: f"{len(p['items'])} pending: " + "、".join(i["unit"]["name"] for i in p["items"]))
    expect(any(i["unit"]["id"] == partner["id"] and i.get("licence") for i in waiting["items"]),
           "the partner waits for verification with its licence")
    s["partner_unit"] = t.call(
        s["admin"], "POST", f"/v1/units/{partner['id']}/verification", {"decision": "verified", "note": "营业执照与登记信息一致"},
        what="checks the licence against the record and verifies the unit: only now may it bid or be invited",
        show=lambda u: f"verification {u['verification']}")

    experts = [
        ("zhang.wei.expert", "张伟", "兰州大学", "620100", "教授", ["新材料"], ["有色冶金"], ["稀土永磁", "晶界扩散"]),
        ("li.na.expert", "李娜", "中国科学院兰州化学物理研究所", "620100", "研究员", ["新材料", "能源化工"], ["有色冶金"], ["磁性材料"]),
        ("chen.xd.expert", "陈晓东", "白银有色集团股份有限公司", "620400", "正高级工程师", ["冶金有色"], ["有色冶金"], ["稀土冶炼"]),
        ("liu.fang.expert", "刘芳", "兰州理工大学", "620100", "教授", ["新材料", "智能装备"], ["装备制造"], ["钕铁硼"]),
        ("zhao.jun.expert", "赵军", "天水星火机床有限责任公司", "620500", "高级工程师", ["智能装备"], ["装备制造"], ["数控机床"]),
    ]
    s["experts"] = {}
    for login, name, organisation, region, title, domains, chains, keywords in experts:
        created = t.call(
            s["publisher"], "POST", "/v1/experts", {
                "login": login, "displayName": name, "organisation": organisation, "regionCode": region,
                "title": title, "domains": domains, "industryChains": chains, "keywords": keywords,
                "loadCap": 5, "password": t.password,
            }, expect=201, what=f"the publisher adds {name} ({organisation}) to the province's 专家库",
            show=lambda e: f"expert {e['id']}, domains {'、'.join(e['domains'])}, 评审上限 {e['loadCap']}")
        s["experts"][created["id"]] = Person(login, f"专家{name}")


def stage_demands(t):
    heading("1. 凝练问题: the technology demand table (技术需求) is imported")
    s = t.state
    rows = [
        ["所在市州", "企业名称", "统一社会信用代码", "企业性质", "所属重点产业链", "技术需求", "支持条件", "联系人", "联系电话", "电子邮箱", "备注"],
        ["兰州市", s["lead_unit"]["name"], s["lead_unit"]["creditCode"], "民营、高新技术、专精特新", "有色冶金",
         "高矫顽力钕铁硼磁体晶界扩散工艺稳定量产，重稀土用量需大幅降低", "提供中试场地、200万元配套资金与10人技术团队",
         "李工", "0931-8000000", "li@lz-re.example.cn", "新能源汽车驱动电机配套"],
        ["金昌市", s["partner_unit"]["name"], s["partner_unit"]["creditCode"], "民营、高新技术", "有色冶金",
         "稀土永磁材料高温磁性能快速检测方法与标准样品", "提供检测平台与标准物质", "孙工", "0935-8201234",
         "sun@jc-magnet.example.cn", ""],
    ]
    path = os.path.join(t.data, "技术需求表.csv")
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(rows)
    t.cli(["demands", "import", path], "imports the cities' demand table (CSV, Chinese headers, as Excel saves it)")
    page = t.call(
        s["publisher"], "GET", "/v1/demands?limit=10", what="the publisher reads the province's demands",
        show=lambda p: f"{len(p['items'])} demands, newest: {p['items'][0]['unitName']}「{p['items'][0]['need'][:20]}…」")
    ours = [d for d in page["items"] if d["need"] == rows[1][5]]
    expect(len(ours) == 1, "the imported demand of the lead unit is not in the list")
    s["demand"] = ours[0]
    detail(f"demand {ours[0]['id']} of {ours[0]['unitName']} ({ours[0]['industryChain']}) becomes the challenge's source")


def stage_publication(t):
    heading("2. 集中发榜: the bureau publishes a programme and a challenge")
    s = t.state
    now = dt.datetime.now(dt.timezone.utc)
    year = now.astimezone(SHANGHAI).year + 1
    programme = t.call(
        s["publisher"], "POST", "/v1/programmes", {
            "name": f"{year}年甘肃省关键核心技术揭榜挂帅（导览）", "year": year,
            "applicationOpensAt": iso(now - dt.timedelta(hours=1)), "applicationClosesAt": iso(now + dt.timedelta(days=60)),
            "minPartners": 1, "winnersPerChallenge": 1, "publicityWorkingDays": 5,
        }, expect=201, what="the publisher creates the year's programme (年度批次)",
        show=lambda p: f"programme {p['id']}「{p['name']}」 cap {p['fundingRatioCapBasisPoints'] / 100:g}% ≤ "
        f"{yuan(p['fundingAbsoluteCapFen'])}, {p['fundingMode']}, 公示 {p['publicityWorkingDays']} working days")
    s["programme"] = programme
    challenge = t.call(
        s["publisher"], "POST", f"/v1/programmes/{programme['id']}/challenges", {
            "title": "高矫顽力稀土永磁材料晶界扩散关键技术", "task": "突破高矫顽力钕铁硼磁体晶界扩散与重稀土减量工艺",
            "content": "面向新能源汽车驱动电机需求，开展晶界扩散、重稀土减量与高温稳定性研究，建成中试线并实现批量化制备。",
            "indicators": ["矫顽力不低于25 kOe", "重稀土用量降低不少于30%", "形成年产500吨中试线"],
            "category": "key_product", "domain": "新材料", "industryChain": "有色冶金",
            "applicationDeadline": iso(now + dt.timedelta(days=30)),
            "completionDeadline": f"{year + 2}-12-31", "fundingCeilingFen": 500_000_000, "winners": 1,
            "demandIDs": [s["demand"]["id"]],
        }, expect=201, what="the publisher drafts a challenge (榜单任务) from the demand",
        show=lambda c: f"challenge {c['id']} {c['status']}「{c['title']}」 demands {c['demandIDs']}")
    published = t.call(
        s["publisher"], "POST", f"/v1/challenges/{challenge['id']}/publish", expect=200,
        what="the publisher publishes it (发榜)",
        show=lambda c: f"{c['status']} v{c['version']}, deadline {c['applicationDeadline']}, 时限 {c['completionDeadline']}, "
        f"ceiling {yuan(c['fundingCeilingFen'])}")
    s["challenge"] = published
    t.call(
        PUBLIC, "GET", f"/v1/board/challenges?programme={programme['id']}&q=%E7%A8%80%E5%9C%9F",
        what="anyone finds it on the public board (q=稀土)",
        show=lambda p: f"{len(p['items'])} hit: 「{p['items'][0]['title']}」" if p["items"] else "no hit")


def stage_bid(t):
    heading("3. 申请揭榜: a consortium (lead + partner) drafts and submits a bid")
    s = t.state
    lead, partner = s["lead"], s["partner"]
    content = {
        "technicalRoute": "采用晶界扩散与热压成形相结合的技术路线，以镝铽减量扩散源替代整体添加，完成中试验证。",
        "rdFoundation": "拥有省级稀土功能材料工程技术研究中心、百吨级烧结钕铁硼生产线和完整的磁性能检测条件。",
        "indicatorAnswers": ["矫顽力达到26 kOe", "重稀土用量降低35%", "建成年产500吨中试线"],
        "totalInvestmentFen": 3_000_000_000, "selfFundingFen": 2_700_000_000, "requestedFundingFen": 300_000_000,
        "team": [
            {"name": "王强", "title": "正高级工程师", "unit": s["lead_unit"]["name"], "role": "项目负责人"},
            {"name": "孙丽", "title": "高级工程师", "unit": s["partner_unit"]["name"], "role": "检测负责人"},
        ],
        "completionCommitment": True,
    }
    bid = t.call(
        lead, "POST", f"/v1/challenges/{s['challenge']['id']}/bids", content, expect=201,
        what="the lead unit (牵头单位) drafts a bid",
        show=lambda b: f"bid {b['id']} {b['status']}: total {yuan(b['content']['totalInvestmentFen'])}, "
        f"requests {yuan(b['content']['requestedFundingFen'])}")
    t.call(
        lead, "POST", f"/v1/bids/{bid['id']}/members", {"unitID": s["partner_unit"]["id"]}, expect=201,
        what="the lead invites the partner unit (参与单位)",
        show=lambda b: ", ".join(f"{m['unitName']} {m['role']}/{m['status']}" for m in b["members"]))
    t.call(
        partner, "GET", "/v1/notifications?limit=5", what="the partner's admin sees the invitation in the inbox",
        show=lambda p: "; ".join(f"{n['occasion']}「{n['title']}」" for n in p["items"][:1]) or "empty")
    t.call(
        partner, "POST", f"/v1/bids/{bid['id']}/members/{s['partner_unit']['id']}/response", {
            "accept": True, "part": {"partRole": "磁性能检测与失效分析", "tasks": "负责高温磁性能测试、失效分析与标准样品研制",
                                     "budgetShareFen": 30_000_000, "contribution": "CNAS认可检测平台"}},
        expect=200, what="the partner's admin accepts, with its part",
        show=lambda b: ", ".join(f"{m['unitName']} {m['role']}/{m['status']}" for m in b["members"]))
    receipt = t.call(
        lead, "POST", f"/v1/bids/{bid['id']}/submit", expect=200, what="the lead submits the bid (揭榜)",
        show=lambda r: f"receipt v{r['version']} sha256 {r['sha256'][:16]}…")
    expect(len(receipt["sha256"]) == 64, "the receipt has no SHA-256")
    s["bid"] = bid


def stage_recommendation(t):
    heading("4. 组织推荐: the lead's city recommends the bid")
    s = t.state
    t.call(
        s["lanzhou"], "GET", f"/v1/bids?programmeID={s['programme']['id']}&status=submitted",
        what="Lanzhou's recommender lists the region's submitted bids",
        show=lambda p: ", ".join(f"bid {b['id']} {b['challengeTitle'][:10]}… ({b['regionCode']})" for b in p["items"]))
    t.call(
        s["lanzhou"], "POST", f"/v1/bids/{s['bid']['id']}/recommendation", {
            "decision": "recommend", "opinion": "该联合体研发基础扎实，技术路线可行，配套资金落实，同意推荐。"},
        expect=200, what="Lanzhou's recommender recommends it with an opinion (推荐报告)",
        show=lambda b: f"bid {b['id']} {b['status']}")


def stage_formal_check(t):
    heading("5. 形式审查: the publisher checks the recommended bid item by item")
    s = t.state
    items = ["materials_complete", "consortium_agreement", "funding_compliant", "commitment_signed", "recommendation_report"]
    t.call(
        s["publisher"], "POST", f"/v1/bids/{s['bid']['id']}/formal-check",
        {"items": [{"item": item, "passed": True} for item in items]}, expect=200,
        what="the publisher records the formal check: every item passed",
        show=lambda b: f"bid {b['id']} {b['status']}")


def poll_draw(t, round_id, number):
    """Waits for the worker to run a draw (the `review.draw` job); returns the draw."""
    path = f"/v1/review-rounds/{round_id}/draws/{number}"
    started = time.monotonic()
    while True:
        request = urllib.request.Request(t.base + path, headers={"Authorization": f"Bearer {t.state['publisher'].token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            draw = json.load(response)
        if draw["status"] != "pending":
            return draw, time.monotonic() - started
        if time.monotonic() - started > 90:
            raise TourFailure(f"draw {number} of round {round_id} is still pending after 90 s")
        time.sleep(0.25)


def stage_review_draw(t):
    heading("6. 单位遴选 (i): a review round, its panel drawn by the worker, the draw verified")
    s = t.state
    now = dt.datetime.now(dt.timezone.utc)
    review_round = t.call(
        s["publisher"], "POST", "/v1/review-rounds", {
            "programmeID": s["programme"]["id"], "name": "第一轮专家评审", "challengeIDs": [s["challenge"]["id"]],
            "panelSize": 3, "alternates": 1, "scoringDeadline": iso(now + dt.timedelta(days=14))},
        expect=201, what="the publisher starts a review round (k = 3 experts and 1 alternate per bid)",
        show=lambda r: f"round {r['id']} {r['status']}, {r['bidCount']} bid, k {r['panelSize']}, q {r['q']}")
    s["round"] = review_round
    for dry_run in (True, False):
        requested = t.call(
            s["publisher"], "POST", f"/v1/review-rounds/{review_round['id']}/draws", {"dryRun": dry_run}, expect=202,
            what="the publisher requests a " + ("dry-run draw first (preview, nobody seated)" if dry_run else "real draw"),
            show=lambda d: f"draw {d['number']} {d['status']}, seed hidden, SHA-256(seed) {d['seedSha256'][:16]}…")
        draw, waited = poll_draw(t, review_round["id"], requested["number"])
        note(f"the worker ran the review.draw job in {waited:.1f} s")
        expected = "previewed" if dry_run else "applied"
        expect(draw["status"] == expected, f"draw {draw['number']} is {draw['status']}: {draw.get('failure', '')}")
        # expected and optimum affinity count panel and alternate seats; drawnAffinity counts the panel seats only.
        print(f"      GET /v1/review-rounds/{review_round['id']}/draws/{draw['number']} → 200   {draw['status']}: "
              f"seed {draw['seed']} revealed, {len(draw['outcome']['assignments'])} seats + "
              f"{len(draw['outcome']['alternates'])} alternate, expected affinity {draw.get('expectedAffinity'):g} = "
              f"{draw.get('percentOfOptimum'):g}% of the optimum, panel's affinity {draw.get('drawnAffinity')}")
    s["draw"] = draw
    seats = t.call(
        s["publisher"], "GET", f"/v1/review-rounds/{review_round['id']}/seats", what="the publisher reads the seats",
        show=lambda p: f"{len(p['items'])} assignments")
    for seat in seats["items"]:
        detail(f"bid {seat['bidID']}: {seat['role']:9} {seat['expertName']} ({seat['organisation']}), {seat['status']}, "
               f"draw {seat['drawNumber']}")
    s["panel"] = [seat["expertID"] for seat in seats["items"] if seat["role"] == "panel" and seat["status"] == "active"]
    expect(len(s["panel"]) == 3, f"the panel has {len(s['panel'])} experts, not 3")
    out = t.cli(["review", "verify-draw", str(review_round["id"])],
                "anyone with the database recomputes the draw from its recorded inputs and revealed seed")
    expect("reproduced" in out, "verify-draw did not reproduce the draw")


def stage_scoring(t):
    heading("7. 单位遴选 (ii): scores, ranking, winner, 公示, final list")
    s = t.state
    rubric = t.call(
        s["publisher"], "GET", f"/v1/programmes/{s['programme']['id']}/rubric", what="the programme's rubric",
        show=lambda r: "; ".join(f"{c['name']} {c['weight']}" for c in r["criteria"]))
    marks = [(88, 92, 85, 80), (82, 86, 90, 78), (90, 84, 80, 86)]
    for index, expert_id in enumerate(s["panel"]):
        expert = t.sign_in(s["experts"][expert_id])
        sheets = t.call(
            expert, "GET", "/v1/expert/scores", what=f"{expert.label} opens their score sheets",
            show=lambda p: f"{len(p['items'])} sheet: bid {p['items'][0]['bidID']} of {p['items'][0]['leadUnitName']}")
        sheet = sheets["items"][0]
        if sheet["status"] == "submitted":  # scored on the expert's page (scripts/browser_test.py does)
            note(f"{expert.label} has already submitted on the page: weighted total {sheet['weightedTotal']}")
            continue
        items = [{"criterion": c["key"], "score": score, "comment": f"{c['name']}：良好"}
                 for c, score in zip(rubric["criteria"], marks[index])]
        t.call(expert, "PUT", f"/v1/review-assignments/{sheet['assignmentID']}/score", {"items": items}, expect=200,
               what=f"{expert.label} saves a draft", show=lambda d: f"{d['status']}, weighted total {d['weightedTotal']}")
        t.call(expert, "POST", f"/v1/review-assignments/{sheet['assignmentID']}/score/submit", expect=200,
               what=f"{expert.label} submits", show=lambda d: f"{d['status']}, weighted total {d['weightedTotal']}")
    round_id = s["round"]["id"]
    t.call(s["publisher"], "POST", f"/v1/review-rounds/{round_id}/close", expect=200,
           what="the publisher closes the round (every panel seat scored)", show=lambda r: f"round {r['status']}")
    ranking = t.call(s["publisher"], "GET", f"/v1/review-rounds/{round_id}/ranking", what="the publisher reads the ranking",
                     show=lambda r: f"{len(r['challenges'])} challenge")
    for challenge in ranking["challenges"]:
        for entry in challenge["entries"]:
            standing = entry["standing"]
            detail(f"#{standing['rank']} bid {entry['bidID']} {entry['leadUnitName']}: trimmed mean {standing.get('trimmedMean')}, "
                   f"totals {', '.join(standing['totals'])}")
    challenge_id, bid_id = s["challenge"]["id"], s["bid"]["id"]
    t.call(s["publisher"], "GET", f"/v1/challenges/{challenge_id}/winners", what="the publisher sees the suggestion",
           show=lambda a: f"stage {a['stage']}, suggested bids {a['suggested']}")
    t.call(s["publisher"], "PUT", f"/v1/challenges/{challenge_id}/winners/{bid_id}", expect=200,
           what="the publisher picks the winner (揭榜单位)",
           show=lambda a: f"stage {a['stage']}, winners " + ", ".join(f"bid {w['bidID']} {w['leadUnitName']}" for w in a["winners"]))
    award = t.call(
        s["publisher"], "POST", f"/v1/challenges/{challenge_id}/winners/publish", expect=200,
        what="the publisher publishes the winners for 公示",
        show=lambda a: f"stage {a['stage']}, 公示 {a['notice']['firstDay']}..{a['notice']['lastDay']}, "
        f"objections until {a['notice']['objectionsCloseAt']}")
    t.call(PUBLIC, "GET", f"/v1/board/winners?programme={s['programme']['id']}", what="anyone reads the list of winning units",
           show=lambda p: "; ".join(f"{w['challengeTitle'][:12]}…: {w['leadUnitName']} + {'、'.join(w['partnerUnitNames'])} "
                                    f"({w['stage']})" for w in p["items"]))
    objection = t.call(
        s["bystander"], "POST", f"/v1/challenges/{challenge_id}/objections",
        {"text": "请核实牵头单位中试线产能数据是否与申报材料一致。"}, expect=201,
        what="a signed-in user files an objection (异议) during the 公示", show=lambda o: f"objection {o['id']} filed")
    t.call(s["publisher"], "POST", f"/v1/challenges/{challenge_id}/winners/finalise", expect=409,
           what="the publisher tries to finalise too early", show=lambda p: p.get("detail", p.get("title", "")))
    t.call(s["publisher"], "POST", f"/v1/objections/{objection['id']}/resolve",
           {"resolution": "经核查，中试线产能数据与现场核验一致，异议不成立。"}, expect=200,
           what="the publisher resolves the objection", show=lambda o: f"resolved at {o['resolvedAt']}")

    # The 公示 runs for working days; the tour cannot wait. The database alone decides that the period has passed
    # (award_notices.objections_close_at, whose trigger refuses any change), so the tour moves this notice back in time,
    # in its own private database, with psql as the cluster's superuser (session_replication_role = replica skips the
    # trigger for this one statement). Nothing in the API can do this.
    notice = award["notice"]
    closes = dt.datetime.fromisoformat(notice["objectionsCloseAt"].replace("Z", "+00:00"))
    days = math.ceil((closes - dt.datetime.now(dt.timezone.utc)).total_seconds() / 86_400)
    note(f"the 公示 period of {s['programme']['publicityWorkingDays']} working days ({notice['firstDay']}..{notice['lastDay']}) "
         f"is shortened for the tour: its notice is moved {days} days into the past with psql in the tour's private database")
    moved = t.psql(
        f"BEGIN; SET LOCAL session_replication_role = replica; "
        f"UPDATE award_notices SET published_at = published_at - interval '{days} days', "
        f"first_day = first_day - {days}, last_day = last_day - {days}, "
        f"objections_close_at = objections_close_at - interval '{days} days' "
        f"WHERE challenge_id = {challenge_id} AND finalised_at IS NULL RETURNING objections_close_at <= now(); COMMIT;")
    expect(moved == "t", f"the notice was not moved past its period ({moved!r})")
    t.call(s["publisher"], "POST", f"/v1/challenges/{challenge_id}/winners/finalise", expect=200,
           what="the publisher makes the list final (公示 over, every objection resolved)",
           show=lambda a: f"stage {a['stage']}, finalised at {a['notice'].get('finalisedAt')}")


def stage_project(t):
    heading("8. 项目实施: the project with its task book, tranches, milestone, progress report, change")
    s = t.state
    publisher, lead, lanzhou = s["publisher"], s["lead"], s["lanzhou"]
    year = int(s["challenge"]["completionDeadline"][:4])
    project = t.call(
        publisher, "POST", "/v1/projects", {
            "bidID": s["bid"]["id"], "awardFen": 300_000_000,
            "indicators": [
                {"target": 26, "targetText": "矫顽力达到26 kOe"},
                {"target": 35, "targetText": "重稀土用量降低35%"},
                {"targetText": "建成年产500吨中试线并通过第三方验收"},
            ],
            "milestones": [
                {"title": "中试线建成", "dueOn": f"{year - 1}-06-30", "deliverables": "中试线建设报告、设备验收单"},
                {"title": "批量化制备与性能验证", "dueOn": f"{year}-10-31", "deliverables": "第三方检测报告、批量化生产记录"},
            ],
            "tranches": [
                {"amountFen": 90_000_000},
                {"milestone": 1, "amountFen": 120_000_000},
                {"milestone": 2, "amountFen": 90_000_000},
            ],
        }, expect=201, what="the publisher starts the project with its task book (任务书)",
        show=lambda p: f"project {p['id']} {p['status']}, award {yuan(p['awardFen'])}, deadline {p['completionDeadline']}")
    for indicator in project["indicators"]:
        bound = (f"{indicator['direction']} {indicator.get('challengeThreshold')}" if indicator["direction"] != "qualitative"
                 else "qualitative")
        detail(f"indicator {indicator['position']}: 「{indicator['challengeText']}」 ({bound}) → target 「{indicator['targetText']}」")
    for milestone in project["milestones"]:
        detail(f"milestone {milestone['position']}: {milestone['title']} due {milestone['dueOn']} ({milestone['status']})")
    tranches = project["tranches"]
    milestone_ids = {m["id"]: m["position"] for m in project["milestones"]}
    for tranche in tranches:
        when = f"milestone {milestone_ids[tranche['milestoneID']]}" if "milestoneID" in tranche else "signing"
        detail(f"tranche {tranche['id']}: {yuan(tranche['amountFen'])} on {when} ({tranche['status']})")
    pid = project["id"]
    signing = next(tr for tr in tranches if "milestoneID" not in tr)
    first = next(tr for tr in tranches if milestone_ids.get(tr.get("milestoneID")) == 1)
    t.call(publisher, "POST", f"/v1/projects/{pid}/tranches/{signing['id']}/payment", expect=200,
           what="the publisher pays the signing tranche", show=lambda p: f"paid {yuan(p['paidFen'])} of {yuan(p['awardFen'])}")
    t.call(publisher, "POST", f"/v1/projects/{pid}/tranches/{first['id']}/payment", expect=409,
           what="the publisher tries to pay milestone 1's tranche before the milestone is approved",
           show=lambda p: p.get("detail", ""))
    t.call(lead, "POST", f"/v1/projects/{pid}/milestones/1/submission", expect=200,
           what="the lead unit submits milestone 1 (里程碑)",
           show=lambda p: f"milestone 1 {next(m['status'] for m in p['milestones'] if m['position'] == 1)}")
    t.call(publisher, "POST", f"/v1/projects/{pid}/milestones/1/decision", {"approve": True, "note": "中试线建成，材料齐全。"},
           expect=200, what="the publisher approves it",
           show=lambda p: f"milestone 1 {next(m['status'] for m in p['milestones'] if m['position'] == 1)}")
    t.call(publisher, "POST", f"/v1/projects/{pid}/tranches/{first['id']}/payment", expect=200,
           what="the publisher pays milestone 1's tranche", show=lambda p: f"paid {yuan(p['paidFen'])} of {yuan(p['awardFen'])}")
    report_year = dt.datetime.now(SHANGHAI).year
    t.call(lanzhou, "POST", f"/v1/projects/{pid}/progress-reports", {
        "year": report_year, "content": "本年度完成中试线建设，矫顽力实测25.6 kOe，重稀土用量降低31%，进度符合任务书要求。"},
        expect=201, what=f"Lanzhou's recommender files the {report_year} progress report (due 10 December)",
        show=lambda r: f"report {r['year']} of project {r['projectID']}, " + ("late" if r["late"] else "on time"))
    change = t.call(lead, "POST", f"/v1/projects/{pid}/changes", {
        "kind": "extend_deadline", "reason": "进口扩散设备到货延迟四个月", "newDeadline": f"{year + 1}-06-30"},
        expect=201, what="the lead unit asks to extend the deadline (变更申请)",
        show=lambda c: f"change {c['id']} {c['status']}")
    t.call(publisher, "POST", f"/v1/projects/{pid}/changes/{change['id']}/decision", {"approve": True, "note": "同意延期一次。"},
           expect=200, what="the publisher approves the change",
           show=lambda p: f"deadline {p['originalCompletionDeadline']} → {p['completionDeadline']}")
    final = t.call(lanzhou, "GET", f"/v1/projects/{pid}", what="the recommender follows the project",
                   show=lambda p: f"{p['status']}, paid {yuan(p['paidFen'])} of {yuan(p['awardFen'])}, "
                   + ", ".join(f"m{m['position']} {m['status']}" for m in p["milestones"]))
    s["project"] = final


# ---------------------------------------------------------------------------------------------------------------------
# 9. Acceptance (验收) and the list of successful units (攻关成功单位名单)


def poll_acceptance(t, acceptance_id):
    """Waits for the worker to draw an acceptance's experts (the `acceptance.assign` job); returns the acceptance."""
    path = f"/v1/acceptances/{acceptance_id}"
    started = time.monotonic()
    while True:
        request = urllib.request.Request(t.base + path, headers={"Authorization": f"Bearer {t.state['publisher'].token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            acceptance = json.load(response)
        if acceptance["status"] != "requested":
            return acceptance, time.monotonic() - started
        if time.monotonic() - started > 90:
            raise TourFailure(f"acceptance {acceptance_id} is still waiting for its experts after 90 s")
        time.sleep(0.25)


def stage_acceptance(t):
    heading("9. 任务验收: acceptance by drawn experts and by the finances, then the success list")
    s = t.state
    publisher, lead = s["publisher"], s["lead"]
    pid = s["project"]["id"]
    requested = t.call(
        lead, "POST", f"/v1/projects/{pid}/acceptance", {
            "summary": "中试线建成并稳定运行，矫顽力、重稀土用量等任务书指标全部完成，形成发明专利3项。",
            "spentFen": 280_000_000,
            "results": [
                {"result": 26.4, "resultText": "矫顽力实测26.4 kOe（第三方检测）"},
                {"result": 36, "resultText": "重稀土用量降低36%"},
                {"resultText": "年产500吨中试线建成并通过第三方验收"},
            ],
        }, expect=201, what="the lead unit requests acceptance (验收申请) with its result per indicator and its spend",
        show=lambda a: f"acceptance {a['id']} (attempt {a['attempt']}) {a['status']}, seed hidden, "
        f"SHA-256(seed) {a['seedSha256'][:16]}…")
    acceptance, waited = poll_acceptance(t, requested["id"])
    note(f"tour: the worker ran the acceptance.assign job in {waited:.1f} s")
    expect(acceptance["status"] == "assigned", f"the acceptance's experts were not drawn: {acceptance.get('failure')}")
    panel = [seat["expertID"] for seat in acceptance["panel"]]
    detail("acceptance experts (same pool, conflict rules and solver as the review): "
           + "、".join(s["experts"][e].label for e in panel))
    for expert_id in panel:
        expert = t.sign_in(s["experts"][expert_id])
        t.call(expert, "GET", "/v1/expert/acceptances", what=f"{expert.label} opens their acceptance tasks",
               show=lambda p: f"{len(p['items'])}: 「{p['items'][0]['challengeTitle']}」 {p['items'][0]['status']}")
        t.call(expert, "POST", f"/v1/acceptances/{acceptance['id']}/verdict", {
            "indicatorsMet": [True, True, True], "dataTrue": True, "targetsKept": True, "conclusion": "pass",
            "comment": "指标经第三方检测核实，全部完成。"},
            expect=200, what=f"{expert.label} judges each indicator met and concludes 通过",
            show=lambda a: f"{a['verdicts']} of {len(panel)} verdicts in")
    concluded = t.call(
        publisher, "POST", f"/v1/acceptances/{acceptance['id']}/finances", {"passed": True, "note": "经费支出与预算相符。"},
        expect=200, what="the publisher's financial acceptance (财务验收): spend against budget",
        show=lambda a: f"{a['status']}: task {a.get('taskConclusion')}, finances passed, overall {a.get('conclusion')}")
    expect(concluded.get("conclusion") == "pass", "the acceptance did not pass")
    t.call(lead, "GET", f"/v1/projects/{pid}", what="the lead unit reads its project", show=lambda p: f"project {p['status']}")
    t.call(publisher, "POST", f"/v1/programmes/{s['programme']['id']}/success-list", expect=201,
           what="the publisher publishes 攻关成功单位名单 (every accepted project not yet listed, at once)",
           show=lambda b: f"list {b['id']}: {len(b['entries'])} project")


def stage_public_lists(t):
    heading("The public lists")
    s = t.state
    winners = t.call(PUBLIC, "GET", f"/v1/board/winners?programme={s['programme']['id']}",
                     what="anyone reads 揭榜单位名单 (the winners list)", show=lambda p: f"{len(p['items'])} winner")
    for w in winners["items"]:
        detail(f"「{w['challengeTitle']}」 牵头 {w['leadUnitName']}, 参与 {'、'.join(w['partnerUnitNames'])}: "
               f"{w['stage']} (公示 {w['publishedAt'][:10]}, final {w.get('finalisedAt', '-')[:10]})")
    expect([w["stage"] for w in winners["items"]] == ["final"], "the winners list does not show one final winner")
    successes = t.call(PUBLIC, "GET", f"/v1/board/successes?programme={s['programme']['id']}",
                       what="anyone reads 攻关成功单位名单 (the list of successful units)",
                       show=lambda p: f"{len(p['items'])} successful project")
    for entry in successes["items"]:
        detail(f"「{entry['challengeTitle']}」 牵头 {entry['leadUnitName']}, 参与 {'、'.join(entry['partnerUnitNames'])}: "
               f"成果 {entry['achievement']}")
    expect([e["projectID"] for e in successes["items"]] == [s["project"]["id"]], "the success list does not show the project")


STAGES = [
    stage_people, stage_demands, stage_publication, stage_bid, stage_recommendation, stage_formal_check,
    stage_review_draw, stage_scoring, stage_project, stage_acceptance, stage_public_lists,
]


# ---------------------------------------------------------------------------------------------------------------------
# The private server


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def private_environment(prefix):
    """A fresh data folder, a free port and the environment for a private `jiebang` on them."""
    data = tempfile.mkdtemp(prefix=prefix)
    # As root the cluster runs as the `postgres` OS user, who must reach the folder (else it would live in /var/tmp).
    os.chmod(data, 0o755)
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGSERVICE", "PGUSER")}
    env.update(JIEBANG_DATA_DIR=data, JIEBANG_PORT=str(port), JIEBANG_HOST="127.0.0.1",
               LOG_LEVEL=os.environ.get("LOG_LEVEL", "warning"))
    return data, port, env


def start_server(binary, base, env, log_path):
    """Starts `jiebang serve` and waits until /readyz answers 200.

    Returns the process and the cluster's folder (from `jiebang db status`)."""
    log = open(log_path, "w")
    server = subprocess.Popen([binary, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=2) as response:
                if response.status == 200:
                    break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if server.poll() is not None:
            raise TourFailure(f"jiebang serve exited {server.returncode} before it was ready")
        if time.monotonic() > deadline:
            server.kill()
            raise TourFailure("jiebang serve is not ready after 120 s")
        time.sleep(0.2)
    db_status = subprocess.run([binary, "db", "status"], env=env, capture_output=True, text=True).stdout
    cluster_dir = next((line.split(" in ", 1)[1] for line in db_status.splitlines() if line.startswith("running in ")), None)
    return server, cluster_dir


def stop_server(binary, env, server, data, cluster_dir, log_path, failed, name="tour"):
    """Stops the server and its cluster and removes their folders; after a failure prints the log's last lines."""
    if server is not None and server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=45)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    if failed and os.path.exists(log_path):
        with open(log_path, errors="replace") as handle:
            lines = handle.readlines()[-30:]
        if lines:
            print(f"{name}: the last lines of the server's log:", file=sys.stderr)
            sys.stderr.writelines("      " + line for line in lines)
    subprocess.run([binary, "db", "stop"], env=env, capture_output=True)
    shutil.rmtree(data, ignore_errors=True)
    if cluster_dir and not cluster_dir.startswith(data) and os.path.basename(cluster_dir.rstrip("/")).startswith("jiebang-"):
        shutil.rmtree(cluster_dir, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True, help="the jiebang executable")
    arguments = parser.parse_args()
    binary = os.path.abspath(arguments.bin)
    started = time.monotonic()

    data, port, env = private_environment("jiebang-tour.")
    tour = Tour(binary, f"http://127.0.0.1:{port}", env, data)
    server = None
    log_path = os.path.join(data, "serve.log")
    cluster_dir = None

    def terminate(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    status = 1
    try:
        heading("The stage: a private jiebang and PostgreSQL")
        note(f"fresh data folder {data}, port {port}")
        tour.cli(["seed-demo", "--accounts-password", tour.password], "loads the demo programme and its people",
                 shown=["seed-demo", "--accounts-password", "…"])
        print("[operator] starts the server with its job workers", flush=True)
        print("      $ jiebang serve", flush=True)
        server, cluster_dir = start_server(binary, tour.base, env, log_path)
        detail(f"GET /readyz → 200 after {time.monotonic() - started:.1f} s")

        for stage in STAGES:
            stage(tour)
        heading(f"Tour complete in {time.monotonic() - started:.0f} s")
        status = 0
    except TourFailure as failure:
        print(f"\ntour: FAILED: {failure}", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        print("\ntour: interrupted", file=sys.stderr, flush=True)
        status = 130
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else 1
        print(f"\ntour: stopped by a signal (exit status {status})", file=sys.stderr, flush=True)
    except Exception as error:  # a bug of the tour itself, or an answer it could not read
        import traceback
        traceback.print_exc()
        print(f"\ntour: FAILED: {error!r}", file=sys.stderr, flush=True)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stop_server(binary, env, server, data, cluster_dir, log_path, failed=status != 0)
        note("stopped the server and its database; removed " + data)
    return status


if __name__ == "__main__":
    sys.exit(main())
