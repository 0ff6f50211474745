// Test-only: reads an XLSX workbook back the way a spreadsheet would see its first sheet, by unzipping its
// parts with Debian's `unzip` (scripts/setup installs it) and parsing their XML: the cells with their type and
// style, shared strings resolved, which styles are bold and which number format each style has, and the
// frozen pane. Header-only so it stays out of the reports library; small inputs only (std::regex).
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "core/status.h"

namespace sluice::testing {

struct XlsxCell {
  std::string ref;    // "B2"
  std::string type;   // the t attribute: "" (a number), "s" (shared string), "b" (boolean), "str", "inlineStr"
  int style = 0;      // the s attribute: an index into cellXfs
  std::string value;  // <v>, with a shared string's text in place of its index
};

struct XlsxSheet {
  std::vector<std::vector<XlsxCell>> rows;  // rows[0] is sheet row 1; cells in column order, empty ones absent
  std::string sheet_xml;                    // xl/worksheets/sheet1.xml as stored
  std::vector<bool> style_bold;             // by cellXfs index
  std::vector<std::string> style_format;    // by cellXfs index: the number format code ("" for General)

  const XlsxCell* Cell(const std::string& ref) const {
    for (const auto& row : rows)
      for (const auto& c : row)
        if (c.ref == ref) return &c;
    return nullptr;
  }
};

inline std::string XmlUnescape(std::string s) {
  static const std::pair<const char*, const char*> kEntities[] = {
      {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}, {"&amp;", "&"}};
  for (const auto& [from, to] : kEntities) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + 1)) s.replace(at, strlen(from), to);
  }
  return s;
}

// `unzip -p FILE PART`: the part's bytes ("" when absent).
inline std::string UnzipPart(const std::string& file, const std::string& part) {
  std::string cmd = "unzip -p '" + file + "' '" + part + "' 2>/dev/null";
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

inline Result<XlsxSheet> ReadXlsx(const std::string& bytes) {
  const std::string file =
      (std::filesystem::temp_directory_path() / ("sluice_xlsx_read_" + std::to_string(::getpid()) + ".xlsx")).string();
  std::ofstream(file, std::ios::binary) << bytes;
  const std::string sheet_xml = UnzipPart(file, "xl/worksheets/sheet1.xml");
  const std::string strings_xml = UnzipPart(file, "xl/sharedStrings.xml");
  const std::string styles_xml = UnzipPart(file, "xl/styles.xml");
  std::filesystem::remove(file);
  if (sheet_xml.empty()) return Status::Invalid("no xl/worksheets/sheet1.xml in the workbook (is it a zip?)");

  std::vector<std::string> strings;
  const std::regex si("<si>([\\s\\S]*?)</si>"), t("<t[^>]*>([\\s\\S]*?)</t>");
  for (std::sregex_iterator it(strings_xml.begin(), strings_xml.end(), si), end; it != end; ++it) {
    std::string text, inner = (*it)[1];
    for (std::sregex_iterator jt(inner.begin(), inner.end(), t); jt != end; ++jt) text += XmlUnescape((*jt)[1]);
    strings.push_back(text);
  }

  XlsxSheet sheet;
  sheet.sheet_xml = sheet_xml;
  std::map<int, std::string> formats;  // numFmtId -> code, for the custom ones
  const std::regex numfmt("<numFmt numFmtId=\"(\\d+)\" formatCode=\"([^\"]*)\"");
  for (std::sregex_iterator it(styles_xml.begin(), styles_xml.end(), numfmt), end; it != end; ++it)
    formats[std::stoi((*it)[1])] = XmlUnescape((*it)[2]);
  std::vector<bool> font_bold;
  std::smatch m;
  if (std::regex_search(styles_xml, m, std::regex("<fonts[^>]*>([\\s\\S]*?)</fonts>"))) {
    const std::string fonts = m[1];
    const std::regex font("<font>([\\s\\S]*?)</font>");
    for (std::sregex_iterator it(fonts.begin(), fonts.end(), font), end; it != end; ++it)
      font_bold.push_back(std::string((*it)[1]).find("<b/>") != std::string::npos);
  }
  if (std::regex_search(styles_xml, m, std::regex("<cellXfs[^>]*>([\\s\\S]*?)</cellXfs>"))) {
    const std::string xfs = m[1];
    const std::regex xf("<xf ([^>]*?)/?>"), attr("(\\w+)=\"([^\"]*)\"");
    for (std::sregex_iterator it(xfs.begin(), xfs.end(), xf), end; it != end; ++it) {
      std::map<std::string, std::string> a;
      const std::string attrs = (*it)[1];
      for (std::sregex_iterator jt(attrs.begin(), attrs.end(), attr); jt != end; ++jt) a[(*jt)[1]] = (*jt)[2];
      const int font = a.count("fontId") ? std::stoi(a["fontId"]) : 0;
      const int fmt = a.count("numFmtId") ? std::stoi(a["numFmtId"]) : 0;
      sheet.style_bold.push_back(font < static_cast<int>(font_bold.size()) && font_bold[font]);
      sheet.style_format.push_back(formats.count(fmt) ? formats[fmt] : "");
    }
  }

  const std::regex row("<row [^>]*?r=\"(\\d+)\"[^>]*>([\\s\\S]*?)</row>");
  const std::regex cell("<c r=\"([A-Z]+\\d+)\"([^>]*?)(?:/>|>([\\s\\S]*?)</c>)");
  const std::regex v("<v>([\\s\\S]*?)</v>"), s_attr("s=\"(\\d+)\""), t_attr("t=\"(\\w+)\"");
  for (std::sregex_iterator it(sheet_xml.begin(), sheet_xml.end(), row), end; it != end; ++it) {
    const size_t r = std::stoul((*it)[1]);
    if (sheet.rows.size() < r) sheet.rows.resize(r);
    const std::string cells = (*it)[2];
    for (std::sregex_iterator jt(cells.begin(), cells.end(), cell); jt != end; ++jt) {
      XlsxCell c;
      c.ref = (*jt)[1];
      const std::string attrs = (*jt)[2], body = (*jt)[3];
      std::smatch a;
      if (std::regex_search(attrs, a, s_attr)) c.style = std::stoi(a[1]);
      if (std::regex_search(attrs, a, t_attr)) c.type = a[1];
      if (std::regex_search(body, a, v)) c.value = XmlUnescape(a[1]);
      if (c.type == "s") {
        const size_t i = std::stoul(c.value);
        c.value = i < strings.size() ? strings[i] : "<missing shared string>";
      }
      sheet.rows[r - 1].push_back(c);
    }
  }
  return sheet;
}

}  // namespace sluice::testing
