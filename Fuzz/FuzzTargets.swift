import Foundation
import Jiebang
import JiebangHTTP
import JobQueue

/// The parsers a stranger's bytes reach, each run on one input: none may crash, hang or trap, whatever the
/// bytes. `scripts/fuzz` runs each under libFuzzer; the test suite replays the seeds (`FuzzReplay`).
enum FuzzTargets {
    /// The targets by name.
    static let all: [String: @Sendable ([UInt8]) -> Void] = [
        "credit-code": creditCode,
        "csv": csv,
        "demand-import": demandImport,
        "expert-import": expertImport,
        "result-import": resultImport,
        "cron": cron,
        "bid-content": bidContent,
        "request-text": requestText,
        "trusted-proxies": trustedProxies,
        "query-date": queryDate,
        "self-test": selfTest,
    ]

    /// Seeds: one well-formed input per target, so the fuzzer starts from the shapes that pass.
    static let seeds: [String: [String]] = [
        "credit-code": ["91620100MA7ABCDE1Q", "12620000438000431B", "9162"],
        "csv": ["a,b,\"c\"\"d\"\r\n1,2,3\n\"x\ny\",,\u{FEFF}"],
        "demand-import": [
            "所在市州,企业名称,统一社会信用代码,企业性质,所属重点产业链,技术需求,支持条件,联系人,联系电话,电子邮箱,备注\n兰州市,兰州某公司,91620100MA7ABCDE1Q,民营,有色冶金,晶界扩散,场地,李工,0931-8000000,li@example.cn,\n"
        ],
        "expert-import": ["登录名,姓名\nzhang.wei,张伟\n"],
        "result-import": [
            "单位名称,统一社会信用代码,成果名称,成果简介,技术领域,所属产业链,关键词,技术成熟度,知识产权,联系人,联系电话,电子邮箱\n兰州大学,12620000438000431B,晶界扩散工艺,钕铁硼晶界扩散的量产工艺与装备。,新材料,有色冶金,晶界扩散、钕铁硼,6,已授权专利,李工,0931-8000000,li@example.cn\n"
        ],
        "cron": ["*/5 * * * *", "0 3 * * 1-5", "30 2 29 2 *", "@daily"],
        "request-text": [
            #"{"title":"稀土\u0000","items":[[1,2],{"a":"%E7%A8%80"}]}"#, "q=%E7%A8%80%E5%9C%9F&domain=%ZZ",
        ],
        "trusted-proxies": ["10.0.0.0/8,127.0.0.1,::1,fd00::/8", "192.168.1.1/24"],
        "query-date": ["2026-12-05", "2026-12-05T08:00:00+08:00", "2025-02-30", "2026-12-05T08:00:00Z"],
        "bid-content": [
            #"{"technicalRoute":"路线","rdFoundation":"基础","indicatorAnswers":["a"],"totalInvestmentFen":100,"selfFundingFen":50,"requestedFundingFen":10,"team":[{"name":"张","title":"教授","unit":"兰大","role":"负责"}],"completionCommitment":true}"#
        ],
    ]

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    /// The server's own scans of a request's bytes before any decoder: UTF-8, percent-decoding, NUL in JSON
    /// strings (raw or escaped) and the JSON shape limits (depth, items).
    static func requestText(_ bytes: [UInt8]) {
        if RequestText.isUTF8(bytes) != (String(validating: bytes, as: UTF8.self) != nil) {
            fatalError("isUTF8 disagrees with Swift's own check")
        }
        if let decoded = RequestText.percentDecoded(bytes) {
            // Decoding never lengthens the text: each %XX becomes one byte.
            if decoded.count > bytes.count { fatalError("percent-decoding made the text longer") }
        }
        _ = RequestText.pathOfNUL(inJSON: bytes)
        _ = RequestText.shapeProblem(inJSON: bytes)
    }

    /// `JIEBANG_TRUSTED_PROXIES`: comma-separated addresses and networks; what parses is asked about addresses.
    static func trustedProxies(_ bytes: [UInt8]) {
        let entries = text(bytes).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        if case .success(let proxies) = TrustedProxies.parse(entries) {
            for entry in entries {
                let address = String(entry.split(separator: "/").first ?? "")
                // An entry's own address is inside it.
                if !proxies.contains(address) { fatalError("a parsed entry does not contain its own address") }
            }
            _ = proxies.contains("127.0.0.1")
            _ = proxies.contains("::1")
        }
        _ = TrustedProxies.address(text(bytes))
    }

    /// A query parameter's date (`YYYY-MM-DD` or an ISO 8601 date-time).
    static func queryDate(_ bytes: [UInt8]) {
        _ = queryDateParses(text(bytes))
    }

    /// A planted bug (a trap on input starting `FUZ!`), which `scripts/fuzz` expects libFuzzer to find
    /// within a minute: proof that the harness reaches the code and reports what it finds.
    static func selfTest(_ bytes: [UInt8]) {
        if bytes.count >= 4, bytes[0] == 0x46, bytes[1] == 0x55, bytes[2] == 0x5A, bytes[3] == 0x21 {
            fatalError("the planted bug was found")
        }
    }

    static func creditCode(_ bytes: [UInt8]) {
        let input = text(bytes)
        if let code = try? CreditCode(input) {
            // What parses is canonical: parsing its value again gives the same code.
            precondition((try? CreditCode(code.value))?.value == code.value, "a parsed credit code does not parse again")
        }
        _ = try? CreditCode.completing(String(input.prefix(17)))
        _ = try? RegionCode(input)
    }

    static func csv(_ bytes: [UInt8]) {
        _ = try? CSVReader.records(text(bytes))
    }

    static func demandImport(_ bytes: [UInt8]) {
        _ = DemandImport.parse(text(bytes))
    }

    static func expertImport(_ bytes: [UInt8]) {
        _ = ExpertImport.parse(text(bytes))
    }

    static func resultImport(_ bytes: [UInt8]) {
        _ = ResultImport.parse(text(bytes))
    }

    static func cron(_ bytes: [UInt8]) {
        guard let expression = try? CronExpression(text(bytes)) else { return }
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let zone = TimeZone(identifier: "Asia/Shanghai")!
        if let next = expression.nextFireDate(after: start, in: zone) {
            precondition(next > start, "the next fire date is not after the start")
        }
        _ = expression.previousFireDate(atOrBefore: start, in: zone)
        _ = expression.fireDates(from: start, through: start + 86_400 * 3, in: zone, limit: 50)
    }

    static func bidContent(_ bytes: [UInt8]) {
        guard let content = try? JSONDecoder().decode(BidContent.self, from: Data(bytes)) else { return }
        _ = try? content.checkDraft()
        _ = try? content.checkSubmission(
            indicatorCount: 3, policy: FundingPolicy(ratioCapBasisPoints: 1_000, absoluteCapFen: 500_000_000),
            challengeCeilingFen: 1_000_000_000)
    }
}
