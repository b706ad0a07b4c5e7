'use strict';
// Links in Markdown files, for checking that every relative link and image of
// the shipped README and docs resolves inside the installed package:
// markdownLinks() finds inline links and images, reference definitions and
// HTML <a href>/<img src> outside code; headingAnchors() gives the anchors
// GitHub (and npm) make from a file's headings; brokenLinks() checks a file's
// relative links against a directory tree.
const fs = require('node:fs');
const path = require('node:path');

/** The file's lines outside code blocks, as [lineNumber, text with code spans blanked, raw text]. */
function proseLines(text) {
  const out = [];
  let fence = null;
  text.split('\n').forEach((line, i) => {
    const m = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fence !== null) {
      if (m && m[1][0] === fence[0] && m[1].length >= fence.length && line.trim() === m[1]) fence = null;
      return;
    }
    if (m) {
      fence = m[1];
      return;
    }
    if (/^( {4}|\t)/.test(line) && (out.length === 0 || out[out.length - 1][1].trim() === '')) return; // indented code
    // A code span shows its content literally: `[x](y)` in backticks is no link.
    out.push([i + 1, line.replace(/(`+)(?!`)[\s\S]*?(?<!`)\1(?!`)/g, (s) => 'x'.repeat(s.length)), line]);
  });
  return out;
}

/**
 * Every link and image of a Markdown text: { kind: 'link' | 'image', target, line }.
 * Inline `[text](target "title")` and `![alt](target)`, reference definitions
 * `[id]: target`, and HTML `<a href>` / `<img src>`.
 */
function markdownLinks(text) {
  const links = [];
  for (const [line, s] of proseLines(text)) {
    for (const m of s.matchAll(/(!?)\[(?:[^\]\\]|\\.)*\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g)) {
      links.push({ kind: m[1] ? 'image' : 'link', target: m[2].replace(/^<|>$/g, ''), line });
    }
    const def = /^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/.exec(s);
    if (def) links.push({ kind: 'link', target: def[1].replace(/^<|>$/g, ''), line });
    for (const m of s.matchAll(/<(img|a)\b[^>]*?\s(src|href)\s*=\s*(?:"([^"]*)"|'([^']*)')/gi)) {
      links.push({ kind: m[1].toLowerCase() === 'img' ? 'image' : 'link', target: m[3] ?? m[4], line });
    }
  }
  return links;
}

/** The anchors of a Markdown text's headings, as GitHub slugs them (github-slugger), plus HTML ids. */
function headingAnchors(text) {
  const anchors = new Set();
  const seen = new Map();
  for (const [, s, raw] of proseLines(text)) {
    for (const m of s.matchAll(/<[a-z]+\b[^>]*?\s(?:id|name)\s*=\s*"([^"]+)"/gi)) anchors.add(m[1]);
    const h = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(raw);
    if (!h) continue;
    // The heading's text as rendered: code without backticks, link text without
    // its target, no HTML tags.
    const plain = h[1]
      .replace(/`+/g, '')
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<[^>]+>/g, '');
    let slug = plain
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    if (n > 0) slug = `${slug}-${n}`;
    anchors.add(slug);
  }
  return anchors;
}

/**
 * The relative links and images of `file` (a Markdown file under `root`) that
 * do not resolve to a file or directory under `root`, or whose #anchor is not
 * a heading of the Markdown file they name. Absolute URLs (with a scheme, or
 * `//host`) are skipped: they do not depend on what the package ships.
 * Returns { file, line, kind, target, reason } for each, empty when every link works.
 */
function brokenLinks(root, file) {
  const problems = [];
  const text = fs.readFileSync(file, 'utf8');
  const rel = path.relative(root, file);
  for (const { kind, target, line } of markdownLinks(text)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue;
    const problem = (reason) => problems.push({ file: rel, line, kind, target, reason });
    if (target.startsWith('/')) {
      problem('root-relative: resolves against the site, not the package');
      continue;
    }
    const hash = target.indexOf('#');
    const pathPart = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
    const anchor = hash < 0 ? null : decodeURIComponent(target.slice(hash + 1));
    const dest = pathPart === '' ? file : path.resolve(path.dirname(file), pathPart);
    const inside = path.relative(root, dest);
    if (inside.startsWith('..') || path.isAbsolute(inside)) {
      problem('points outside the package');
      continue;
    }
    if (!fs.existsSync(dest)) {
      problem(`${inside} is not in the package`);
      continue;
    }
    if (anchor !== null && dest.endsWith('.md') && !headingAnchors(fs.readFileSync(dest, 'utf8')).has(anchor)) {
      problem(`no heading #${anchor} in ${inside}`);
    }
  }
  return problems;
}

module.exports = { markdownLinks, headingAnchors, brokenLinks };
