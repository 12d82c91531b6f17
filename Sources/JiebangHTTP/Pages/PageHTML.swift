/// Small pieces of HTML the hottest page (the board) builds in Swift rather than through template sections:
/// each `{{name}}` and `{{#section}}` of swift-mustache costs dynamic casts and an escape character by
/// character, which was most of the board page's time. Every text goes through `escape`; the templates
/// print these pieces with `{{{…}}}`.
enum PageHTML {
    /// `text` with `&`, `<`, `>`, `"` and `'` as entities (as Mustache's `{{…}}` escapes them); the text
    /// itself when it has none, which is most text.
    static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }) else {
            return text
        }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// Text cut into runs (`PageFormat.highlight`), the hits inside `<mark>`.
    static func marked(_ segments: [PageFormat.Segment]) -> String {
        var out = ""
        for segment in segments {
            out += segment.hit ? "<mark>\(escape(segment.text))</mark>" : escape(segment.text)
        }
        return out
    }

    /// A select's options, the chosen one marked `selected`.
    static func options(_ options: [PublicPageController.Option]) -> String {
        var out = ""
        for option in options {
            out += "<option value=\"\(escape(option.value))\"\(option.selected ? " selected" : "")>\(escape(option.label))</option>\n"
        }
        return out
    }
}
