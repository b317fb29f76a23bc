// Filtering a localization table by an expression, as ThunderSTORM's filter and Picasso's
// "select" do: `post::Filter::parse("uncertainty_xy < 20 and intensity > 500")`, then
// `post::filter(table, f)` keeps the rows where it is true.
//
// The grammar (whitespace anywhere between tokens; keywords and names are case-sensitive):
//   expression := or
//   or         := and { "or" and }            also "||"
//   and        := not { "and" not }           also "&&"
//   not        := "not" not | comparison      also "!"
//   comparison := sum [ ("<" | "<=" | ">" | ">=" | "==" | "!=") sum ]
//   sum        := product { ("+" | "-") product }
//   product    := unary { ("*" | "/") unary }
//   unary      := "-" unary | primary
//   primary    := number | column | function "(" expression ")" | "(" expression ")"
//   function   := "abs" | "sqrt" | "log"
// Columns are the table's, by their ThunderSTORM names without the unit: id, frame, x, y, z,
// sigma, intensity, offset, bkgstd, uncertainty_xy (with the aliases photons = intensity and
// uncertainty = uncertainty_xy); values in the table's units (nm, photons, 1-based frames).
// Comparisons and logic give 1 or 0; a row is kept where the expression is non-zero (NaN: not
// kept). There are no assignments, calls other than the three functions, or loops: an expression
// can only read the row it is given.
//
// A malformed expression is an error naming the character position and what was expected; a
// column the table does not have is an error naming it.
#pragma once

#include <cctype>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <smlm/core/localization_table.hpp>
#include <smlm/core/status.hpp>

namespace smlm::post {

class Filter {
 public:
  enum class column : std::uint8_t { id, frame, x, y, z, sigma, intensity, offset, bkgstd, uncertainty_xy };

  /// The expression compiled, or an error naming where it is malformed.
  static Expected<Filter> parse(std::string_view text) {
    Parser p{text};
    Filter f;
    f.text_ = std::string(text);
    const Status s = p.expression(f.code_);
    if (!s.ok()) return s;
    p.skip_space();
    if (p.at < text.size()) return p.error("an operator or the end of the expression");
    for (const Op& op : f.code_)
      if (op.code == opcode::load) f.columns_.push_back(op.col);
    return f;
  }

  const std::string& text() const noexcept { return text_; }
  /// The columns it reads (with repeats).
  const std::vector<column>& columns() const noexcept { return columns_; }

  /// The expression's value on row `i` of `table` (which has every column it reads).
  double evaluate(const LocalizationTable& table, std::size_t i) const {
    std::vector<double>& stack = stack_;
    stack.clear();
    for (const Op& op : code_) {
      if (op.code == opcode::constant) {
        stack.push_back(op.value);
        continue;
      }
      if (op.code == opcode::load) {
        stack.push_back(value_of(table, op.col, i));
        continue;
      }
      if (op.code == opcode::negate || op.code == opcode::logical_not || op.code == opcode::abs ||
          op.code == opcode::sqrt || op.code == opcode::log) {
        double& a = stack.back();
        switch (op.code) {
          case opcode::negate: a = -a; break;
          case opcode::logical_not: a = a == 0 ? 1 : 0; break;
          case opcode::abs: a = std::abs(a); break;
          case opcode::sqrt: a = std::sqrt(a); break;
          default: a = std::log(a); break;
        }
        continue;
      }
      const double b = stack.back();
      stack.pop_back();
      double& a = stack.back();
      switch (op.code) {
        case opcode::add: a = a + b; break;
        case opcode::subtract: a = a - b; break;
        case opcode::multiply: a = a * b; break;
        case opcode::divide: a = a / b; break;
        case opcode::less: a = a < b; break;
        case opcode::less_equal: a = a <= b; break;
        case opcode::greater: a = a > b; break;
        case opcode::greater_equal: a = a >= b; break;
        case opcode::equal: a = a == b; break;
        case opcode::not_equal: a = a != b; break;
        case opcode::logical_and: a = (a != 0 && !std::isnan(a)) && (b != 0 && !std::isnan(b)); break;
        default: a = (a != 0 && !std::isnan(a)) || (b != 0 && !std::isnan(b)); break;
      }
    }
    return stack.back();
  }

  static std::string_view name(column c) noexcept {
    constexpr std::string_view names[] = {"id", "frame", "x", "y", "z", "sigma", "intensity", "offset", "bkgstd", "uncertainty_xy"};
    return names[static_cast<std::size_t>(c)];
  }

  /// Whether `table` has column `c` (id and the real columns may be absent).
  static bool has(const LocalizationTable& table, column c) noexcept {
    const std::size_t n = table.size();
    switch (c) {
      case column::id: return table.id.size() == n;
      case column::frame: return table.frame.size() == n;
      case column::x: return true;
      case column::y: return table.y_nm.size() == n;
      case column::z: return table.z_nm.size() == n && n > 0;
      case column::sigma: return table.sigma_nm.size() == n && n > 0;
      case column::intensity: return table.intensity_photons.size() == n && n > 0;
      case column::offset: return table.offset_photons.size() == n && n > 0;
      case column::bkgstd: return table.bkgstd_photons.size() == n && n > 0;
      case column::uncertainty_xy: return table.uncertainty_xy_nm.size() == n && n > 0;
    }
    return false;
  }

 private:
  enum class opcode : std::uint8_t {
    constant, load, negate, logical_not, abs, sqrt, log, add, subtract, multiply, divide,
    less, less_equal, greater, greater_equal, equal, not_equal, logical_and, logical_or
  };
  struct Op {
    opcode code;
    double value = 0;
    column col = column::x;
  };

  static double value_of(const LocalizationTable& t, column c, std::size_t i) noexcept {
    switch (c) {
      case column::id: return static_cast<double>(t.id[i]);
      case column::frame: return t.frame[i];
      case column::x: return t.x_nm[i];
      case column::y: return t.y_nm[i];
      case column::z: return t.z_nm[i];
      case column::sigma: return t.sigma_nm[i];
      case column::intensity: return t.intensity_photons[i];
      case column::offset: return t.offset_photons[i];
      case column::bkgstd: return t.bkgstd_photons[i];
      case column::uncertainty_xy: return t.uncertainty_xy_nm[i];
    }
    return 0;
  }

  /// Recursive descent, emitting postfix code.
  struct Parser {
    std::string_view s;
    std::size_t at = 0;

    void skip_space() {
      while (at < s.size() && std::isspace(static_cast<unsigned char>(s[at]))) ++at;
    }
    Status error(const char* expected) const {
      std::string found = "the end";
      if (at < s.size()) {
        found.assign(1, '\'');
        found.append(s.substr(at, 12));
        found.push_back('\'');
      }
      return make_error(errc::invalid_argument, "expression \"", s, "\": at character ", at + 1, ": expected ", expected,
                        ", found ", found);
    }
    /// Consumes `token` (a word only when no name character follows).
    bool eat(std::string_view token) {
      skip_space();
      if (s.substr(at, token.size()) != token) return false;
      const bool word = std::isalpha(static_cast<unsigned char>(token[0])) != 0;
      const std::size_t end = at + token.size();
      if (word && end < s.size() && (std::isalnum(static_cast<unsigned char>(s[end])) || s[end] == '_')) return false;
      at = end;
      return true;
    }

    Status expression(std::vector<Op>& code) { return logical_or(code); }
    Status logical_or(std::vector<Op>& code) {
      if (Status st = logical_and(code); !st.ok()) return st;
      while (eat("or") || eat("||")) {
        if (Status st = logical_and(code); !st.ok()) return st;
        code.push_back({opcode::logical_or});
      }
      return {};
    }
    Status logical_and(std::vector<Op>& code) {
      if (Status st = logical_not(code); !st.ok()) return st;
      while (eat("and") || eat("&&")) {
        if (Status st = logical_not(code); !st.ok()) return st;
        code.push_back({opcode::logical_and});
      }
      return {};
    }
    Status logical_not(std::vector<Op>& code) {
      skip_space();
      if (eat("not") || (s.substr(at, 1) == "!" && s.substr(at, 2) != "!=" && eat("!"))) {
        if (Status st = logical_not(code); !st.ok()) return st;
        code.push_back({opcode::logical_not});
        return {};
      }
      return comparison(code);
    }
    Status comparison(std::vector<Op>& code) {
      if (Status st = sum(code); !st.ok()) return st;
      struct Cmp {
        std::string_view token;
        opcode code;
      };
      static constexpr Cmp cmps[] = {{"<=", opcode::less_equal}, {">=", opcode::greater_equal}, {"==", opcode::equal},
                                     {"!=", opcode::not_equal},  {"<", opcode::less},           {">", opcode::greater}};
      for (const Cmp& c : cmps)
        if (eat(c.token)) {
          if (Status st = sum(code); !st.ok()) return st;
          code.push_back({c.code});
          skip_space();
          for (const Cmp& again : cmps)
            if (s.substr(at, again.token.size()) == again.token)
              return error("'and' or 'or' between comparisons (a < x < b is written a < x and x < b)");
          return {};
        }
      return {};
    }
    Status sum(std::vector<Op>& code) {
      if (Status st = product(code); !st.ok()) return st;
      for (;;) {
        const opcode op = eat("+") ? opcode::add : eat("-") ? opcode::subtract : opcode::constant;
        if (op == opcode::constant) return {};
        if (Status st = product(code); !st.ok()) return st;
        code.push_back({op});
      }
    }
    Status product(std::vector<Op>& code) {
      if (Status st = unary(code); !st.ok()) return st;
      for (;;) {
        const opcode op = eat("*") ? opcode::multiply : eat("/") ? opcode::divide : opcode::constant;
        if (op == opcode::constant) return {};
        if (Status st = unary(code); !st.ok()) return st;
        code.push_back({op});
      }
    }
    Status unary(std::vector<Op>& code) {
      if (eat("-")) {
        if (Status st = unary(code); !st.ok()) return st;
        code.push_back({opcode::negate});
        return {};
      }
      return primary(code);
    }
    Status primary(std::vector<Op>& code) {
      skip_space();
      if (eat("(")) {
        if (Status st = expression(code); !st.ok()) return st;
        if (!eat(")")) return error("')'");
        return {};
      }
      if (at < s.size() && (std::isdigit(static_cast<unsigned char>(s[at])) || s[at] == '.')) {
        const std::string rest(s.substr(at));
        char* end = nullptr;
        const double v = std::strtod(rest.c_str(), &end);
        if (end == rest.c_str() || !std::isfinite(v)) return error("a number");
        at += static_cast<std::size_t>(end - rest.c_str());
        code.push_back({opcode::constant, v});
        return {};
      }
      std::size_t end = at;
      while (end < s.size() && (std::isalnum(static_cast<unsigned char>(s[end])) || s[end] == '_')) ++end;
      const std::string_view word = s.substr(at, end - at);
      if (word.empty() || std::isdigit(static_cast<unsigned char>(word[0]))) return error("a number, a column or '('");
      struct Function {
        std::string_view name;
        opcode code;
      };
      for (const Function& f : {Function{"abs", opcode::abs}, Function{"sqrt", opcode::sqrt}, Function{"log", opcode::log}})
        if (word == f.name) {
          at = end;
          if (!eat("(")) return error("'(' after the function name");
          if (Status st = expression(code); !st.ok()) return st;
          if (!eat(")")) return error("')'");
          code.push_back({f.code});
          return {};
        }
      struct Name {
        std::string_view name;
        column col;
      };
      static constexpr Name names[] = {{"id", column::id},
                                       {"frame", column::frame},
                                       {"x", column::x},
                                       {"y", column::y},
                                       {"z", column::z},
                                       {"sigma", column::sigma},
                                       {"intensity", column::intensity},
                                       {"photons", column::intensity},
                                       {"offset", column::offset},
                                       {"bkgstd", column::bkgstd},
                                       {"uncertainty_xy", column::uncertainty_xy},
                                       {"uncertainty", column::uncertainty_xy}};
      for (const Name& n : names)
        if (word == n.name) {
          at = end;
          code.push_back({opcode::load, 0, n.col});
          return {};
        }
      return error(
          "a column (id, frame, x, y, z, sigma, intensity, photons, offset, bkgstd, uncertainty_xy, uncertainty), a "
          "function (abs, sqrt, log), a number or '('");
    }
  };

  std::string text_;
  std::vector<Op> code_;
  std::vector<column> columns_;
  mutable std::vector<double> stack_;
};

/// The rows of `table` where `f` is true (non-zero and not NaN), every column kept; an error
/// naming the column when `f` reads one the table does not have.
inline Expected<LocalizationTable> filter(const LocalizationTable& table, const Filter& f) {
  if (!table.consistent()) return make_error(errc::invalid_argument, "post::filter: the table's columns differ in length");
  for (const Filter::column c : f.columns())
    if (!Filter::has(table, c))
      return make_error(errc::invalid_argument, "expression \"", f.text(), "\": the table has no column ", Filter::name(c));
  LocalizationTable out;
  const std::size_t n = table.size();
  std::vector<std::size_t> kept;
  for (std::size_t i = 0; i < n; ++i) {
    const double v = f.evaluate(table, i);
    if (v != 0 && !std::isnan(v)) kept.push_back(i);
  }
  auto take = [&](const auto& from, auto& to) {
    if (from.size() != n || n == 0) return;
    to.reserve(kept.size());
    for (const std::size_t i : kept) to.push_back(from[i]);
  };
  take(table.id, out.id);
  take(table.frame, out.frame);
  take(table.x_nm, out.x_nm);
  take(table.y_nm, out.y_nm);
  take(table.z_nm, out.z_nm);
  take(table.sigma_nm, out.sigma_nm);
  take(table.intensity_photons, out.intensity_photons);
  take(table.offset_photons, out.offset_photons);
  take(table.bkgstd_photons, out.bkgstd_photons);
  take(table.uncertainty_xy_nm, out.uncertainty_xy_nm);
  return out;
}

}  // namespace smlm::post
