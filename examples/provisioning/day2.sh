#!/bin/sh
# Day 2 in HR: Zoë leaves, Kenji moves from Sales to Legal, Inês marries and changes her last name,
# and someone in HR edits Mei's it_login by hand (the field idplane writes back).
set -e
cd "$(dirname "$0")"
sed -i \
  -e 's/^\(1004,.*\),Active,/\1,Terminated,/' \
  -e 's/^\(1007,Kenji,Watanabe,kenji.watanabe@example.com,\)Sales,/\1Legal,/' \
  -e 's/^1013,Inês,Conceição,/1013,Inês,Conceição Silva,/' \
  -e 's/^\(1008,.*,Active,\)mei.chen@example.com,/\1mei.c,/' \
  data/hr.csv
echo "day 2 applied to data/hr.csv"
