import Foundation
import Hummingbird
import Mustache

/// Renders the pages' Mustache templates, which the binary carries (`Pages/Templates`, embedded at build
/// time), so it finds them whatever its working folder. Every value is HTML-escaped unless a template
/// says otherwise, and none does.
struct PageRenderer: Sendable {
    let library: MustacheLibrary

    /// The templates the package embeds, by name.
    static let templates: [String: [UInt8]] = [
        "layout": PackageResources.layout_mustache,
        "unit": PackageResources.unit_mustache,
        "bid": PackageResources.bid_mustache,
        "inbox": PackageResources.inbox_mustache,
        "board": PackageResources.board_mustache,
        "board-entry": PackageResources.board_entry_mustache,
        "challenge": PackageResources.challenge_mustache,
        "programme": PackageResources.programme_mustache,
        "programmes": PackageResources.programmes_mustache,
        "error": PackageResources.error_mustache,
        "sign-in": PackageResources.sign_in_mustache,
        "expert": PackageResources.expert_mustache,
        "assignment": PackageResources.assignment_mustache,
        "jobs": PackageResources.jobs_mustache,
        "job": PackageResources.job_mustache,
        "bureau": PackageResources.bureau_mustache,
        "dashboard": PackageResources.dashboard_mustache,
        "chart": PackageResources.chart_mustache,
        "municipal": PackageResources.municipal_mustache,
    ]

    /// The renderer of the embedded templates, parsed once.
    static let shared: PageRenderer = {
        var library = MustacheLibrary()
        for (name, bytes) in templates {
            do {
                try library.register(String(decoding: bytes, as: UTF8.self), named: name)
            } catch {
                preconditionFailure("the page template \(name) does not parse: \(error)")
            }
        }
        return PageRenderer(library: library)
    }()

    /// The page `template` shows for `view`.
    func html(_ template: String, _ view: Any) -> String {
        library.render(view, withTemplate: template) ?? ""
    }

    /// A response carrying the rendered page, its layout showing who is signed in.
    func response<View: SessionPageView>(
        _ template: String, _ view: View, context: AppRequestContext, status: HTTPResponse.Status = .ok
    ) -> Response {
        var view = view
        view.session = PageSessionView(context)
        return response(template, view, status: status)
    }

    /// A response carrying the rendered page.
    func response(_ template: String, _ view: Any, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: html(template, view))))
    }
}
