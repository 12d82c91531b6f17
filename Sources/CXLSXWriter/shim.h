#ifndef JIEBANG_CXLSXWRITER_SHIM_H
#define JIEBANG_CXLSXWRITER_SHIM_H
/* libxlsxwriter (Debian libxlsxwriter-dev): the 汇总表 workbook. */
#include <xlsxwriter.h>
#endif
