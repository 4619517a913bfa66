-- Driven by test/lsp/neovim.test.ts: Neovim (0.7 or later, headless), set up by docs/editors.md's init.lua for 0.7-0.10
-- (which starts `tlr lsp`), opens a recipe, waits for its diagnostics, asks for a hover, a completion and semantic
-- tokens, and writes what it got as JSON to $TLR_OUT.
local out = {}
vim.cmd('edit ' .. vim.env.TLR_RECIPE)
local buf = vim.api.nvim_get_current_buf()
out.filetype = vim.bo.filetype
vim.wait(30000, function() return #vim.diagnostic.get(buf) > 0 end, 50)
out.diagnostics = {}
for _, d in ipairs(vim.diagnostic.get(buf)) do
  table.insert(out.diagnostics, { line = d.lnum, message = d.message, code = d.code })
end
local uri = vim.uri_from_bufnr(buf)
local function ask(method, params)
  local r = vim.lsp.buf_request_sync(buf, method, params, 30000)
  for _, v in pairs(r or {}) do return v.result end
end
out.hover = ask('textDocument/hover', { textDocument = { uri = uri }, position = { line = 0, character = 7 } })
out.completion = ask('textDocument/completion', { textDocument = { uri = uri }, position = { line = 3, character = 19 } })
out.tokens = ask('textDocument/semanticTokens/full', { textDocument = { uri = uri } })
vim.fn.writefile({ vim.fn.json_encode(out) }, vim.env.TLR_OUT)
vim.cmd('qa!')
