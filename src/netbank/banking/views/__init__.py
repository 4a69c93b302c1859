"""The customer's banking screens: 残高・明細 (accounts), 振替・振込 (transfer), 登録先・限度額 (settings)."""
