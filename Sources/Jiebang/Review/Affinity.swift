import Foundation

/// The affinity (契合度) of an expert for a bid: an integer from 0 to 100 that the assignment maximises.
///
/// ```text
/// affinity = 40 · [challenge's domain ∈ expert's domains]
///          + 30 · [challenge's industry chain ∈ expert's industry chains]
///          + min(30, 10 · |expert's keywords found in the challenge's title, task, content or the bid's technical route|)
/// ```
/// Matching ignores case and surrounding spaces; a keyword is found when it occurs as a substring
/// (Chinese text has no word boundaries). An expert with no match has affinity 0 and may still be drawn.
public enum Affinity {
    /// What the expert knows.
    public struct Profile: Sendable, Hashable {
        public var domains: [String]
        public var industryChains: [String]
        public var keywords: [String]

        /// Creates a profile.
        public init(domains: [String], industryChains: [String], keywords: [String]) {
            self.domains = domains
            self.industryChains = industryChains
            self.keywords = keywords
        }
    }

    /// What the bid is about.
    public struct Subject: Sendable, Hashable {
        public var domain: String
        public var industryChain: String
        /// The challenge's title, task and content and the bid's technical route.
        public var text: String

        /// Creates a subject.
        public init(domain: String, industryChain: String, text: String) {
            self.domain = domain
            self.industryChain = industryChain
            self.text = text
        }
    }

    /// Points for a matching domain.
    public static let domainPoints = 40
    /// Points for a matching industry chain.
    public static let chainPoints = 30
    /// Points per keyword found.
    public static let keywordPoints = 10
    /// The most keyword points.
    public static let keywordCap = 30

    /// The affinity of `profile` for `subject`, 0 ... 100.
    public static func score(_ profile: Profile, _ subject: Subject) -> Int {
        let domain = normalised(subject.domain)
        let chain = normalised(subject.industryChain)
        let text = subject.text.lowercased()
        var score = 0
        if !domain.isEmpty, profile.domains.contains(where: { normalised($0) == domain }) { score += domainPoints }
        if !chain.isEmpty, profile.industryChains.contains(where: { normalised($0) == chain }) { score += chainPoints }
        var found = 0
        for keyword in Set(profile.keywords.map(normalised)) where !keyword.isEmpty && text.contains(keyword) {
            found += 1
        }
        return score + min(keywordCap, keywordPoints * found)
    }

    private static func normalised(_ text: String) -> String {
        text.trimmingCharacters(in: .whitespaces).lowercased()
    }
}
