#!/usr/bin/env python3
"""check-meta.py [DIR]: check DIR/META.json (DIR: the checkout, by default)
against the PGXN Meta Spec 1.0 (https://pgxn.org/meta/spec.txt), with the
json module alone, and against the rest of the tree: the distribution's
version extends default_version of idgen.control, the files it names exist,
and, where debian/ is there, the package's version and contact agree with
it.  Prints one line per problem and exits 1, or prints "META.json: ok".

The spec's rules, as PGXN's validator applies them: required keys, a
semantic version for the distribution and for each extension it provides,
terms for names, known licence names, URIs and mail addresses where the
spec asks for them.  The project adds: every maintainer is "name <address>"
with an address off localhost, and resources name a repository and a bug
tracker.
"""

import json
import os
import re
import sys

SEMVER = (r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
          r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
          r"(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
          r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?")
VERSION_RANGE = re.compile(r"^\s*(([=!]=|[<>]=?)\s*)?(%s|0)(\s*,\s*(([=!]=|[<>]=?)\s*)?%s)*\s*$"
                           % (SEMVER, SEMVER))
URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s]+$")
EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>.]+(\.[^@\s<>.]+)+$")
CONTACT = re.compile(r"^[^<>]*\S[^<>]*<([^<>]+)>$")
LICENSES = {
    "agpl_3", "apache_1_1", "apache_2_0", "artistic_1", "artistic_2", "bsd",
    "freebsd", "gfdl_1_2", "gfdl_1_3", "gpl_1", "gpl_2", "gpl_3", "lgpl_2_1",
    "lgpl_3_0", "mit", "mozilla_1_0", "mozilla_1_1", "openssl", "perl_5",
    "postgresql", "qpl_1_0", "ssleay", "sun", "zlib", "open_source",
    "restricted", "unrestricted", "unknown"}
TOP_REQUIRED = ["name", "version", "abstract", "maintainer", "license",
                "provides", "meta-spec"]
TOP_OPTIONAL = ["description", "generated_by", "tags", "no_index", "prereqs",
                "release_status", "resources"]

problems = []


def bad(where, what):
    """Record a problem at a key path."""
    problems.append("META.json: %s: %s" % (where, what))


def custom(key):
    """Whether a key is a custom one (x_ or X_), which the spec allows."""
    return key[:2] in ("x_", "X_")


def only(obj, where, allowed):
    """Flag the keys of obj that are neither allowed nor custom."""
    for key in obj:
        if key not in allowed and not custom(key):
            bad(where, "unknown key %r" % key)


def is_obj(value, where):
    """Whether value is an object; flags it when not."""
    if not isinstance(value, dict):
        bad(where, "must be an object")
        return False
    return True


def string(value, where, minlen=1):
    """Whether value is a string of at least minlen characters."""
    if not isinstance(value, str) or len(value) < minlen:
        bad(where, "must be a string of at least %d characters" % minlen)
        return False
    return True


def term(value, where):
    """A term: 2 characters or more, no slash, backslash, space or control."""
    if string(value, where, 2) and re.search(r"[/\\\s\x00-\x1f\x7f]", value):
        bad(where, "%r is not a term (no slash, backslash, space or control character)" % value)


def semver(value, where):
    """A semantic version, X.Y.Z[-pre][+build]."""
    if string(value, where) and not re.fullmatch(SEMVER, value):
        bad(where, "%r is not a semantic version (X.Y.Z)" % value)


def uri(value, where):
    """A URI with a scheme."""
    if string(value, where) and not URI.match(value):
        bad(where, "%r is not a URI" % value)


def email(value, where):
    """A mail address with a domain of two labels or more (not localhost)."""
    if string(value, where) and not EMAIL.match(value):
        bad(where, "%r is not a mail address with a domain" % value)


def path(value, where, root):
    """A relative path in unix form, naming a file of the tree at root."""
    if not string(value, where):
        return
    if value.startswith("/") or "\\" in value or ".." in value.split("/"):
        bad(where, "%r is not a relative unix path" % value)
    elif root is not None and not os.path.isfile(os.path.join(root, value)):
        bad(where, "%r does not exist" % value)


def check_maintainer(value):
    """A string or a non-empty list of strings, each "name <address>"."""
    contacts = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not value:
        bad("maintainer", "must not be empty")
    for i, contact in enumerate(contacts):
        where = "maintainer[%d]" % i if isinstance(value, list) else "maintainer"
        if not string(contact, where):
            continue
        match = CONTACT.match(contact)
        if not match:
            bad(where, "%r is not \"name <address>\"" % contact)
        else:
            email(match.group(1), where)


def check_license(value):
    """A known licence name, a list of them, or an object name -> URI."""
    if isinstance(value, str):
        if value not in LICENSES:
            bad("license", "unknown licence %r" % value)
    elif isinstance(value, list):
        if not value:
            bad("license", "must not be empty")
        for i, name in enumerate(value):
            if name not in LICENSES:
                bad("license[%d]" % i, "unknown licence %r" % name)
    elif isinstance(value, dict):
        if not value:
            bad("license", "must not be empty")
        for name, link in value.items():
            uri(link, "license.%s" % name)
    else:
        bad("license", "must be a licence name, a list of them, or an object")


def check_provides(value, root):
    """Each extension: file and version required, abstract, docfile."""
    if not is_obj(value, "provides"):
        return
    if not value:
        bad("provides", "must name at least one extension")
    for name, ext in value.items():
        where = "provides.%s" % name
        term(name, where)
        if not is_obj(ext, where):
            continue
        only(ext, where, ["file", "version", "abstract", "docfile", "docpath"])
        for key in ["file", "version"]:
            if key not in ext:
                bad(where, "%s is required" % key)
        if "file" in ext:
            path(ext["file"], where + ".file", root)
        if "version" in ext:
            semver(ext["version"], where + ".version")
        if "abstract" in ext:
            string(ext["abstract"], where + ".abstract")
        if "docfile" in ext:
            path(ext["docfile"], where + ".docfile", root)


def check_meta_spec(value):
    """version 1.0.x; url, if given, the spec's."""
    if not is_obj(value, "meta-spec"):
        return
    only(value, "meta-spec", ["version", "url"])
    if not isinstance(value.get("version"), str) or not re.fullmatch(r"1\.0\.\d+", value["version"]):
        bad("meta-spec.version", "must be 1.0.x")
    if "url" in value and value["url"] not in ("https://pgxn.org/meta/spec.txt",
                                               "http://pgxn.org/meta/spec.txt"):
        bad("meta-spec.url", "must be https://pgxn.org/meta/spec.txt")


def check_resources(value):
    """homepage, bugtracker (web or mailto), repository (url and type, or web)."""
    if not is_obj(value, "resources"):
        return
    only(value, "resources", ["homepage", "bugtracker", "repository"])
    if "homepage" in value:
        uri(value["homepage"], "resources.homepage")
    tracker = sub_object(value, "bugtracker", ["web", "mailto"])
    if tracker is not None:
        if "web" not in tracker and "mailto" not in tracker:
            bad("resources.bugtracker", "needs web or mailto")
        if "mailto" in tracker:
            email(tracker["mailto"], "resources.bugtracker.mailto")
    repo = sub_object(value, "repository", ["url", "web", "type"])
    if repo is not None:
        if "web" not in repo and not ("url" in repo and "type" in repo):
            bad("resources.repository", "needs url and type, or web")
        if "type" in repo and (not isinstance(repo["type"], str) or not re.fullmatch(r"[a-z]+", repo["type"])):
            bad("resources.repository.type", "must be a lowercase name, e.g. git")


def sub_object(resources, key, allowed):
    """resources[key], an object of the allowed keys whose URIs (url, web)
    are checked; None, flagged, when it is missing or no object."""
    where = "resources." + key
    sub = resources.get(key)
    if sub is None:
        bad("resources", "names no " + key)
        return None
    if not is_obj(sub, where):
        return None
    only(sub, where, allowed)
    for name in ["url", "web"]:
        if name in sub:
            uri(sub[name], where + "." + name)
    return sub


def check_prereqs(value):
    """phase -> relationship -> term -> version range."""
    if not is_obj(value, "prereqs"):
        return
    only(value, "prereqs", ["configure", "build", "test", "runtime", "develop"])
    for phase, relations in value.items():
        if custom(phase) or not is_obj(relations, "prereqs." + phase):
            continue
        only(relations, "prereqs." + phase, ["requires", "recommends", "suggests", "conflicts"])
        for relation, prereqs in relations.items():
            where = "prereqs.%s.%s" % (phase, relation)
            if custom(relation) or not is_obj(prereqs, where):
                continue
            for name, version in prereqs.items():
                term(name, where)
                if version != 0 and (not isinstance(version, str) or not VERSION_RANGE.match(version)):
                    bad("%s.%s" % (where, name), "%r is not a version range" % (version,))


def check_tags(value):
    """A non-empty list of 2 to 255 characters, no slash, backslash or control."""
    if not isinstance(value, list) or not value:
        bad("tags", "must be a non-empty list")
        return
    for i, tag in enumerate(value):
        if not isinstance(tag, str) or not 2 <= len(tag) <= 255 or re.search(r"[/\\\x00-\x1f\x7f]", tag):
            bad("tags[%d]" % i, "%r is not a tag" % (tag,))


def check_spec(meta, root):
    """Every rule of the spec for the whole document."""
    if not is_obj(meta, "(top)"):
        return
    for key in TOP_REQUIRED:
        if key not in meta:
            bad("(top)", "%s is required" % key)
    only(meta, "(top)", TOP_REQUIRED + TOP_OPTIONAL)
    if "name" in meta:
        term(meta["name"], "name")
    if "version" in meta:
        semver(meta["version"], "version")
    for key in ["abstract", "description", "generated_by"]:
        if key in meta:
            string(meta[key], key)
    if "maintainer" in meta:
        check_maintainer(meta["maintainer"])
    if "license" in meta:
        check_license(meta["license"])
    if "provides" in meta:
        check_provides(meta["provides"], root)
    if "meta-spec" in meta:
        check_meta_spec(meta["meta-spec"])
    if "release_status" in meta and meta["release_status"] not in ("stable", "testing", "unstable"):
        bad("release_status", "must be stable, testing or unstable")
    if "resources" in meta:
        check_resources(meta["resources"])
    else:
        bad("(top)", "resources (repository, bugtracker) are missing")
    if "prereqs" in meta:
        check_prereqs(meta["prereqs"])
    if "tags" in meta:
        check_tags(meta["tags"])


def read(root, name):
    """The text of a file of the tree, or None."""
    try:
        with open(os.path.join(root, name), encoding="utf-8") as f:
            return f.read()
    except OSError:
        return None


def check_tree(meta, root):
    """The distribution against idgen.control and, where present, debian/."""
    version = meta.get("version") if isinstance(meta, dict) else None
    if not isinstance(version, str):
        return
    control = read(root, "idgen.control")
    match = re.search(r"^default_version\s*=\s*'([^']*)'", control or "", re.M)
    if not match:
        bad("version", "idgen.control has no default_version")
    else:
        default = match.group(1)
        if not version.startswith(default + "."):
            bad("version", "%r does not extend default_version %r of idgen.control" % (version, default))
        ext = meta.get("provides", {}).get("idgen", {}) if isinstance(meta.get("provides"), dict) else {}
        if isinstance(ext, dict) and isinstance(ext.get("version"), str) and not ext["version"].startswith(default + "."):
            bad("provides.idgen.version", "%r does not extend default_version %r" % (ext["version"], default))
    changelog = read(root, "debian/changelog")
    if changelog is None:
        return
    first = re.match(r"^\S+ \(([^)]+)\)", changelog)
    upstream = re.sub(r"-[^-]*$", "", first.group(1)) if first else None
    if upstream != version:
        bad("version", "%r differs from debian/changelog's upstream version %r" % (version, upstream))
    contacts = [m.strip() for m in re.findall(r"^ -- (.*?>)", changelog, re.M)]
    for name in ["debian/control", "debian/control.in", "debian/copyright"]:
        text = read(root, name)
        if text is None:
            continue
        contacts += [m.strip() for m in re.findall(r"^(?:Maintainer|Upstream-Contact):\s*(.*)$", text, re.M)]
    maintainer = meta.get("maintainer")
    first_contact = maintainer[0] if isinstance(maintainer, list) and maintainer else maintainer
    for contact in sorted(set(contacts)):
        if contact != first_contact:
            bad("maintainer", "%r differs from the contact %r of debian/" % (first_contact, contact))


def main():
    """Check the META.json of the tree named on the command line."""
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    try:
        with open(os.path.join(root, "META.json"), encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError) as e:
        print("META.json: cannot read: %s" % e)
        return 1
    check_spec(meta, root)
    check_tree(meta, root)
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print("META.json: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
