import Mustache

// The board's views name their fields for the templates directly: swift-mustache otherwise builds a
// `Mirror` of the value at every lookup, which was most of the board page's time (measured: 5 ms of
// rendering per page in a debug build, against the API endpoint's whole answer well under that).

extension PublicPageController.BoardView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "session": session
        case "q": q
        case "deadlineFrom": deadlineFrom
        case "deadlineTo": deadlineTo
        case "programmeOptions": programmeOptions
        case "domainOptions": domainOptions
        case "chainOptions": chainOptions
        case "categoryOptions": categoryOptions
        case "statusOptions": statusOptions
        case "errors": errors
        case "hasErrors": hasErrors
        case "total": total
        case "hasKeyword": hasKeyword
        case "entriesHTML": entriesHTML
        case "hasEntries": hasEntries
        case "previousURL": previousURL
        case "nextURL": nextURL
        default: nil
        }
    }
}

extension PublicPageController.BoardEntry: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "id": id
        case "link": link
        case "titleHTML": titleHTML
        case "programmeName": programmeName
        case "category": category
        case "domain": domain
        case "industryChain": industryChain
        case "status": status
        case "open": open
        case "deadline": deadline
        case "ceilingWan": ceilingWan
        case "ceilingYuan": ceilingYuan
        default: nil
        }
    }
}

extension PublicPageController.Option: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "value": value
        case "label": label
        case "selected": selected
        default: nil
        }
    }
}

extension PublicPageController.FieldProblem: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "label": label
        case "message": message
        default: nil
        }
    }
}

extension PageFormat.Segment: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "text": text
        case "hit": hit
        default: nil
        }
    }
}

extension PageFormat.Money: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "wan": wan
        case "yuan": yuan
        default: nil
        }
    }
}

extension PageSessionView: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "name": self.name
        case "role": role
        case "isExpert": isExpert
        case "isAdmin": isAdmin
        case "isPublisher": isPublisher
        case "isRecommender": isRecommender
        case "isUnit": isUnit
        case "csrf": csrf
        default: nil
        }
    }
}
