#include "reports/xlsx_writer.h"

#include <fcntl.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "core/time.h"

namespace sluice {
namespace {

constexpr size_t kMaxColumns = 16'384;
constexpr size_t kMaxCellChars = 32'767;
// Excel's serial day 25569 is 1970-01-01; serials below 61 (1900-03-01) fall in its fictitious 1900-02-29.
constexpr double kEpochSerial = 25569.0;
const int64_t kFirstDay = DaysFromCivil(1900, 3, 1);
const int64_t kPastLastDay = DaysFromCivil(10000, 1, 1);

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// "Nullable(LowCardinality(Int64))" -> "INT64": ClickHouse wraps the type that matters.
std::string BaseType(const std::string& type) {
  std::string t = Upper(type);
  for (bool again = true; again;) {
    again = false;
    for (const char* wrapper : {"NULLABLE(", "LOWCARDINALITY("}) {
      const std::string w = wrapper;
      if (t.rfind(w, 0) == 0 && t.back() == ')') {
        t = t.substr(w.size(), t.size() - w.size() - 1);
        again = true;
      }
    }
  }
  return t;
}

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

std::optional<double> ParseNumber(const std::string& text) {
  double v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence (xlsxwriter counts bytes).
std::string CutUtf8(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

// Frees the workbook on every path: workbook_close is also its destructor.
struct WorkbookCloser {
  lxw_workbook* wb;
  lxw_error Close() {
    lxw_error e = wb ? workbook_close(wb) : LXW_NO_ERROR;
    wb = nullptr;
    return e;
  }
  ~WorkbookCloser() { Close(); }
};

}  // namespace

char XlsxColumnKind(const std::string& type) {
  const std::string t = BaseType(type);
  if (t == "BOOLEAN" || t == "BOOL") return 'b';
  if (t == "DATE" || t == "DATE32") return 'd';
  if (StartsWith(t, "TIMESTAMP") || StartsWith(t, "DATETIME")) return 't';
  static const char* kNumbers[] = {"TINYINT",  "SMALLINT", "INTEGER",  "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                                   "UINTEGER", "UBIGINT",  "UHUGEINT", "FLOAT",  "DOUBLE",  "REAL",     "NUMERIC"};
  for (const char* n : kNumbers)
    if (t == n) return 'n';
  // DECIMAL(18,2), ClickHouse Int8..Int256, UInt*, Float32/64, Decimal32(s)...
  // (INTERVAL starts with INT too: ClickHouse's integer names have the bit width right after the prefix.)
  auto sized = [&](const char* prefix) {
    const size_t n = std::strlen(prefix);
    return StartsWith(t, prefix) && t.size() > n && std::isdigit(static_cast<unsigned char>(t[n]));
  };
  if (StartsWith(t, "DECIMAL") || sized("INT") || sized("UINT") || sized("FLOAT")) return 'n';
  return 's';
}

Result<std::string> FormatXlsx(const QueryResult& result, const XlsxOptions& options) {
  if (result.columns.size() > kMaxColumns)
    return Status::Invalid("an xlsx sheet holds at most 16384 columns, the result has " +
                           std::to_string(result.columns.size()));
  if (result.rows.size() > 1'048'575)
    return Status::Invalid("an xlsx sheet holds at most 1048575 rows below its header, the result has " +
                           std::to_string(result.rows.size()));
  const std::string dir = options.tmp_dir.empty() ? std::filesystem::temp_directory_path().string() : options.tmp_dir;
  std::string path = dir + "/sluice-xlsx-XXXXXX";
  const int fd = ::mkstemp(path.data());
  if (fd < 0) return Status::Io("cannot create a scratch file in " + dir + ": " + std::strerror(errno));
  ::close(fd);
  struct Remove {
    std::string path;
    ~Remove() { std::filesystem::remove(path); }
  } remove{path};

  lxw_workbook_options wopts{};
  std::string tmpdir = dir;  // xlsxwriter keeps a char*; it does not write through it
  wopts.tmpdir = tmpdir.data();
  WorkbookCloser book{workbook_new_opt(path.c_str(), &wopts)};
  if (!book.wb) return Status::Io("libxlsxwriter cannot open " + path);
  lxw_doc_properties props{};
  props.created = options.created ? options.created : std::time(nullptr);
  workbook_set_properties(book.wb, &props);
  lxw_worksheet* sheet = workbook_add_worksheet(book.wb, options.sheet_name.c_str());
  if (!sheet) return Status::Invalid("not a valid sheet name: '" + options.sheet_name + "'");
  lxw_format* bold = workbook_add_format(book.wb);
  format_set_bold(bold);
  lxw_format* date = workbook_add_format(book.wb);
  format_set_num_format(date, "yyyy-mm-dd");
  lxw_format* stamp = workbook_add_format(book.wb);
  format_set_num_format(stamp, "yyyy-mm-dd hh:mm:ss");

  lxw_error first = LXW_NO_ERROR;
  auto check = [&](lxw_error e) {
    if (first == LXW_NO_ERROR) first = e;
  };
  const size_t ncols = result.columns.size();
  std::vector<char> kinds(ncols, 's');
  for (size_t c = 0; c < ncols; ++c) {
    if (c < result.types.size()) kinds[c] = XlsxColumnKind(result.types[c]);
    check(worksheet_write_string(sheet, 0, static_cast<lxw_col_t>(c), CutUtf8(result.columns[c], kMaxCellChars).c_str(),
                                 bold));
  }
  for (size_t i = 0; i < result.rows.size(); ++i) {
    const auto row = static_cast<lxw_row_t>(i + 1);
    const auto& cells = result.rows[i];
    for (size_t c = 0; c < ncols && c < cells.size(); ++c) {
      if (!cells[c]) continue;  // NULL: an empty cell
      const std::string& text = *cells[c];
      const auto col = static_cast<lxw_col_t>(c);
      bool written = false;
      switch (kinds[c]) {
        case 'n':
          if (auto v = ParseNumber(text)) {
            check(worksheet_write_number(sheet, row, col, *v, nullptr));
            written = true;
          }
          break;
        case 'b':
          if (text == "true" || text == "false" || text == "1" || text == "0") {
            check(worksheet_write_boolean(sheet, row, col, text == "true" || text == "1", nullptr));
            written = true;
          }
          break;
        case 'd':
          if (auto days = ParseIsoDate(text); days && *days >= kFirstDay && *days < kPastLastDay) {
            check(worksheet_write_number(sheet, row, col, *days + kEpochSerial, date));
            written = true;
          }
          break;
        case 't':
          if (auto us = ParseIsoMicros(text)) {
            const int64_t day = DayOf(*us);
            if (day >= kFirstDay && day < kPastLastDay) {
              check(worksheet_write_number(sheet, row, col, static_cast<double>(*us) / kMicrosPerDay + kEpochSerial,
                                           stamp));
              written = true;
            }
          }
          break;
      }
      if (!written) check(worksheet_write_string(sheet, row, col, CutUtf8(text, kMaxCellChars).c_str(), nullptr));
    }
  }
  // Columns as wide as their header or their first values, within reason.
  for (size_t c = 0; c < ncols; ++c) {
    size_t width = result.columns[c].size();
    if (kinds[c] == 'd') width = std::max<size_t>(width, 10);
    if (kinds[c] == 't') width = std::max<size_t>(width, 19);
    for (size_t i = 0; i < result.rows.size() && i < 100; ++i)
      if (c < result.rows[i].size() && result.rows[i][c] && kinds[c] != 't' && kinds[c] != 'd')
        width = std::max(width, result.rows[i][c]->size());
    worksheet_set_column(sheet, static_cast<lxw_col_t>(c), static_cast<lxw_col_t>(c),
                         static_cast<double>(std::min<size_t>(width, 60) + 2), nullptr);
  }
  worksheet_freeze_panes(sheet, 1, 0);
  if (ncols > 0)
    check(worksheet_autofilter(sheet, 0, 0, static_cast<lxw_row_t>(result.rows.size()),
                               static_cast<lxw_col_t>(ncols - 1)));
  if (first != LXW_NO_ERROR) return Status::Invalid(std::string("libxlsxwriter: ") + lxw_strerror(first));
  if (lxw_error e = book.Close(); e != LXW_NO_ERROR)
    return Status::Io("libxlsxwriter cannot write " + path + ": " + lxw_strerror(e));

  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Io("cannot read back " + path);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace sluice
