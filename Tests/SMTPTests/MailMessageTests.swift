import Foundation
import Testing

@testable import SMTP

/// Addresses and the rendering of messages.
@Suite("Mail messages")
struct MailMessageTests {
    @Test("Addresses: dot-atoms at a domain of two or more labels; anything that could break a command is refused")
    func addresses() {
        for good in ["zhang.san@example.com", "a+b@mail.example.gov.cn", "x_y-z@a-b.cn"] {
            #expect(MailAddress.problem(good) == nil, "\(good)")
        }
        for bad in [
            "", "plain", "a@b", "a@@b.cn", "a@b.cn>", "a b@c.cn", "a@b.cn\r\nRCPT TO:<x@y.cn>", "张三@example.com", ".a@b.cn", "a..b@c.cn",
            "a@-b.cn", "a@b-.cn", String(repeating: "a", count: 65) + "@b.cn", "a@" + String(repeating: "b", count: 250) + ".cn",
        ] {
            #expect(MailAddress.problem(bad) != nil, "\(bad.debugDescription)")
        }
    }

    @Test("A Chinese message renders as base64 UTF-8 with encoded-word headers, CRLF lines of at most 78 characters, and decodes back")
    func rendering() throws {
        let text = "尊敬的用户：\n您有一份评审任务将于 2026-12-05 截止。\n.这一行以点开头\n"
        let message = MailMessage(
            from: try MailAddress("noreply@example.gov.cn", name: "揭榜挂帅平台"), to: try MailAddress("zhang@example.com"),
            subject: "评审截止提醒：氢能储运关键技术攻关（第一批）" + String(repeating: "长", count: 40), text: text,
            messageID: "3F2504E0-4F89-11D3-9A0C-0305E82C3301@example.gov.cn", date: Date(timeIntervalSince1970: 1_796_400_000),
            headers: [.init("Auto-Submitted", "auto-generated")])
        let rendered = String(decoding: message.rendered(), as: UTF8.self)
        #expect(rendered.hasSuffix("\r\n"))
        let lines = rendered.components(separatedBy: "\r\n").dropLast()
        #expect(lines.allSatisfy { $0.utf8.count <= 78 })
        #expect(rendered.unicodeScalars.allSatisfy { $0.isASCII })
        #expect(lines.contains("Date: Sat, 05 Dec 2026 00:00:00 +0800"))
        #expect(lines.contains("Message-ID: <3F2504E0-4F89-11D3-9A0C-0305E82C3301@example.gov.cn>"))
        #expect(lines.contains("Auto-Submitted: auto-generated"))
        let parts = rendered.components(separatedBy: "\r\n\r\n")
        let body = Data(base64Encoded: parts[1].replacingOccurrences(of: "\r\n", with: ""))
        #expect(body.map { String(decoding: $0, as: UTF8.self) } == text.replacingOccurrences(of: "\n", with: "\r\n"))
        let subjectWords = parts[0].components(separatedBy: "\r\n").drop { !$0.hasPrefix("Subject:") }
            .prefix { $0.hasPrefix("Subject:") || $0.hasPrefix(" ") }
        let decoded = subjectWords.map { line -> String in
            let word = line.replacingOccurrences(of: "Subject: ", with: "").trimmingCharacters(in: .whitespaces)
            let payload = word.dropFirst("=?UTF-8?B?".count).dropLast(2)
            return Data(base64Encoded: String(payload)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
        }.joined()
        #expect(decoded == message.subject)
    }

    @Test("A header value with a line break cannot add a header")
    func headerInjection() {
        #expect(MailMessage.encodedWords("hello\r\nBcc: x@y.cn") == "hello  Bcc: x@y.cn")
    }
}
